#!/usr/bin/env python3
"""check-config-keys.py service/lib/config.c man/winvm.conf.5.scd

Every [Group] Key that service/lib/config.c accepts (its config_keys table, and the groups it
accepts any key in, such as [Definitions]) is documented in winvm.conf(5) under that group,
and the page documents no key the service does not know.
"""
import re
import sys


def code_keys(path):
    with open(path) as f:
        text = f.read()
    table = re.search(r"config_keys\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    if not table:
        sys.exit("check-config-keys: no config_keys table in %s" % path)
    keys = set(re.findall(r'\{\s*"([A-Za-z]+)",\s*"([A-Za-z]+)",', table.group(1)))
    # Groups whose keys are names (one per VM), accepted by group_is_known() by name.
    free = set(re.findall(r'strcmp\(group, "([A-Za-z]+)"\) == 0', text))
    return keys, free


def page_keys(path):
    """("Group", "Key") for each definition term "*Key=*..." under "# [Group]"; a term
    "_VM_*=*..." (a key that is a name) counts as ("Group", None)."""
    keys = set()
    group = None
    with open(path) as f:
        for line in f:
            m = re.match(r"^# \[([A-Za-z]+)\]\s*$", line)
            if m:
                group = m.group(1)
                continue
            if line.startswith("# "):
                group = None
                continue
            if group is None:
                continue
            m = re.match(r"^\*([A-Za-z]+)=\*", line)
            if m:
                keys.add((group, m.group(1)))
            elif re.match(r"^_[A-Z]+_\*=\*", line):
                keys.add((group, None))
    return keys


def main():
    code, free = code_keys(sys.argv[1])
    page = page_keys(sys.argv[2])
    want = code | {(g, None) for g in free}
    failed = False
    for g, k in sorted(want - page, key=str):
        print("not ok - [%s] %s is in config.c but not documented in winvm.conf(5)" % (g, k or "VM=PATH keys"))
        failed = True
    for g, k in sorted(page - want, key=str):
        print("not ok - [%s] %s is documented in winvm.conf(5) but config.c does not know it" % (g, k or "VM=PATH keys"))
        failed = True
    if not failed:
        print("ok - winvm.conf(5) documents the %d keys of config.c, and no other" % len(want))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
