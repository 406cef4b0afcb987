#!/usr/bin/env bash
# check-man-render.sh PAGE...: each built man page renders with `man -l`, in the C locale and
# in a UTF-8 one, without a single warning from man, preconv or groff (--warnings=all), at a
# narrow and a wide width; has a NAME section that names it; and mentions no unfilled
# placeholder (@...@) or scdoc markup that leaked through (a literal '*word*').
set -uo pipefail

failed=0
fail() {
    printf 'not ok - %s\n' "$1"
    shift
    local d
    for d in "$@"; do printf '#   %s\n' "$d"; done
    failed=1
}

if ! command -v man >/dev/null; then
    echo "check-man-render: man (man-db) is not installed" >&2
    exit 77
fi

locales=(C)
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    locales+=(C.UTF-8)
fi

for page in "$@"; do
    name=${page##*/}
    if [[ ! -s $page ]]; then
        fail "$name: built" "$page is missing or empty"
        continue
    fi
    for loc in "${locales[@]}"; do
        for width in 60 120; do
            errs=$(mktemp)
            text=$(LC_ALL=$loc MANWIDTH=$width man --warnings=all -l "$page" 2>"$errs")
            rc=$?
            if ((rc != 0)) || [[ -s $errs ]]; then
                mapfile -t lines < <(head -n 10 "$errs")
                fail "$name: renders without warnings (LC_ALL=$loc, width $width)" "man exited $rc" "${lines[@]}"
            else
                printf 'ok - %s: renders without warnings (LC_ALL=%s, width %d)\n' "$name" "$loc" "$width"
            fi
            rm -f "$errs"
        done
    done
    # The NAME section is "title - what", the title being the page's name.
    title=${name%.*}
    text=$(LC_ALL=C MANWIDTH=200 man -l "$page" 2>/dev/null | col -b)
    if grep -A1 '^NAME' <<<"$text" | grep -qE "^ +${title//./\\.} - "; then
        printf 'ok - %s: NAME names %s\n' "$name" "$title"
    else
        fail "$name: NAME names $title" "$(grep -A1 '^NAME' <<<"$text" | tail -n 1)"
    fi
    leaks=$(grep -nE '@[A-Z_]+@|(^|[ (])\*[A-Za-z-]+\*([ ,.)]|$)' <<<"$text" | head -n 5)
    if [[ -n $leaks ]]; then
        mapfile -t lines <<<"$leaks"
        fail "$name: no placeholders or markup left" "${lines[@]}"
    else
        printf 'ok - %s: no placeholders or markup left\n' "$name"
    fi
done
exit "$failed"
