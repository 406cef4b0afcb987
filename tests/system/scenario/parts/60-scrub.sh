# shellcheck shell=bash
# A btrfs scrub of the VM storage as a job, through the scrub ioctls under the unit.

check "scrub start images --wait as jarrett" wctl scrub start images --wait
check_output "scrub status reports the finished scrub" 'finished|no errors|0 errors' wctl scrub status images
busctl --system get-property org.winvm1 /org/winvm1/storage org.winvm1.Storage LastScrub >"$STATE/last-scrub"
check "LastScrub names the filesystem" grep -q images "$STATE/last-scrub"
