# The kvmfr device size for a resolution, by winvmd's formula (kvmfr_required_size_mib in
# service/lib/kvmfr-checks.c; tests/nix/check-kvmfr-size.sh compares the two): width x height x
# bytes a pixel (4, or 8 for HDR) x 2 frames, in MiB rounded up, plus 10, rounded up to a
# power of two. 3840x2160 gives 128, with HDR 256.
{ width, height, hdr ? false }:
let
  mib = 1024 * 1024;
  bytes = width * height * (if hdr then 8 else 4) * 2;
  needed = (bytes + mib - 1) / mib + 10;
  powerOfTwoFrom = p: if p >= needed then p else powerOfTwoFrom (p * 2);
in
powerOfTwoFrom 1
