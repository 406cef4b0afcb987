# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# VFIO on a real (virtual) IOMMU: the e1000e named in [Vfio] Devices is bound to vfio-pci at
# boot by vfio-pci.ids, alone in its IOMMU group; rebound to e1000e, the checks fail with the
# remedy.

addr=$(lspci -Dn -d 8086:10d3 | awk '{print $1}')
group=$(basename "$(readlink "/sys/bus/pci/devices/$addr/iommu_group")")
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$addr/driver")"; }
check "the test machine has the e1000e in an IOMMU group" test -n "$addr" -a -n "$group"
check_output "the kernel bound it to vfio-pci (vfio-pci.ids)" '^vfio-pci$' driver_of
check_output "winvmctl vfio: every check passes, the device on vfio-pci" "^8086:10d3 +$addr +vfio-pci +$group" wctl vfio
check_output "winvmctl vfio: alone in its IOMMU group" "^ok +vfio.group.8086:10d3: IOMMU group $group holds this device alone" wctl vfio
# The doctor exits 1 when any check fails: its output, not its status, is what is asked here.
doctor_says() { local out; out=$(wctl doctor 2>&1); grep -Eq -- "$1" <<<"$out"; }
check "the doctor's VFIO driver check passes" doctor_says '^ok +vfio.driver.8086:10d3'

echo "$addr" >"/sys/bus/pci/devices/$addr/driver/unbind"
echo "$addr" >/sys/bus/pci/drivers/e1000e/bind
check_output "rebound to e1000e, its usual driver" '^e1000e$' driver_of
check_refused "winvmctl vfio then fails on the driver" "^FAIL vfio.driver.8086:10d3: $addr \(8086:10d3\) is on e1000e" wctl vfio
check_refused "and names the remedy" 'softdep e1000e pre: vfio-pci' wctl vfio
check "the doctor fails the same check" doctor_says '^FAIL vfio.driver.8086:10d3'
# Back to vfio-pci for the rest.
echo "$addr" >"/sys/bus/pci/devices/$addr/driver/unbind"
echo "$addr" >/sys/bus/pci/drivers/vfio-pci/bind
check_output "bound to vfio-pci again" '^vfio-pci$' driver_of
