# shellcheck shell=bash disable=SC2154  # here: run-scenario sets it
# A btrfs scrub of the VM storage as a job, through the scrub ioctls under the unit.

check "scrub start images --wait as jarrett" wctl scrub start images --wait
check_output "scrub status: the last scrub finished" '^Last scrub: finished,' wctl scrub status images
check_output "scrub status: no errors" 'errors: checksum 0, read 0, verify 0; corrected 0, uncorrectable 0' wctl scrub status images
busctl --system get-property org.winvm1 /org/winvm1/storage org.winvm1.Storage LastScrub >"$STATE/last-scrub"
check "LastScrub names the filesystem" grep -q images "$STATE/last-scrub"
