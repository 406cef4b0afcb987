#!/usr/bin/env python3
"""check-commands.py WINVMCTL PAGE.scd COMPLETION

winvmctl --help, the winvmctl(1) page and the bash completion know the same commands (each
"verb" or "verb subverb"), and --help and the page the same long options. Fails naming what
one side has and the other lacks, so a command added to one of them fails the test until
the others have it too.

The command lists are read as people write them: "snapshot create [NAME]" is the command
"snapshot create" (upper-case words and [UPPER] are arguments, words starting with '-'
options); "kvmfr [status]" is both "kvmfr" and "kvmfr status"; "kvmfr load | unload" and
"usb list|attach|detach" are one command per alternative.
"""
import re
import shutil
import subprocess
import sys


def command_words(text):
    """[(word, optional)] of the command words at the start of text, up to its options;
    arguments (NAME, [FS], VENDOR:PRODUCT) are left out."""
    words = []
    for w in text.split():
        if w.startswith("-") or w.startswith("[-"):
            break
        optional = w.startswith("[") and w.endswith("]")
        core = w.strip("[]")
        if re.fullmatch(r"[a-z][a-z0-9-]*", core):
            words.append((core, optional))
    return words


def expand(words):
    stems = [[]]
    for w, optional in words:
        stems = (stems if optional else []) + [s + [w] for s in stems]
    return {" ".join(s) for s in stems if s}


def commands_of(synopsis):
    """The commands one synopsis line names. An alternative after '|' replaces the last
    command word before it: "kvmfr load | unload", "usb attach ID | detach ID" and
    "usb list|attach|detach" name one command per alternative."""
    parts = re.split(r"\s*\|\s*", synopsis.strip())
    base = command_words(parts[0])
    cmds = expand(base)
    for alt in parts[1:]:
        cmds |= expand(base[:-1] + command_words(alt))
    return cmds


def help_commands(winvmctl):
    """Commands and long options from --help: its "Commands:" and "Options:" sections, each
    entry at an indent of two to six, its description after a run of spaces (deeper lines
    continue a description)."""
    out = subprocess.run([winvmctl, "--help"], capture_output=True, text=True, check=True).stdout
    cmds, opts = set(), set()
    section = None
    desc_col = 0
    for line in out.split("\n"):
        if re.match(r"^[A-Z][A-Za-z ]*:$", line):
            section = line[:-1]
            continue
        if not line.strip():
            section = None
            continue
        m = re.match(r"^ {2,6}(\S.*?)(?:\s{2,}.*)?$", line)
        if not m:
            continue
        if section == "Commands":
            # The descriptions start in one column; an entry that reaches it with a single
            # space before its description is cut there ("usb attach ID | detach ID attach
            # or detach ..."), one longer than that has its description on the next line.
            synopsis = m.group(1)
            if desc_col and len(line) > desc_col and line[desc_col - 1] == " " and line[desc_col] != " ":
                synopsis = line[:desc_col].strip()
            elif desc_col == 0 and m.end(1) < len(line):
                desc_col = len(line) - len(line[m.end(1):].lstrip())
            cmds |= commands_of(synopsis)
        elif section == "Options":
            opts |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", m.group(1)))
    return cmds, opts


def page_commands(path):
    """Commands from the COMMANDS section (each definition term, a line starting with '*'),
    and long options from the terms of the OPTIONS section."""
    cmds, opts = set(), set()
    section = None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# "):
                section = line[2:].strip()
                continue
            if not line.startswith("*"):
                continue
            plain = re.sub(r"\\(.)", r"\1", line).replace("*", "").replace("_", "")
            if section == "COMMANDS":
                cmds |= commands_of(plain)
            elif section == "OPTIONS":
                opts |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", plain))
    return cmds, opts


def completion_commands(script):
    """What the bash completion offers for "winvmctl <TAB>" and "winvmctl VERB <TAB>"."""
    def complete(*words):
        prog = (
            '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; '
            'COMP_POINT=${#COMP_LINE}; _winvmctl; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        # PATH without winvmctl: names from the service are not what is compared here.
        out = subprocess.run([bash, "-c", prog, "bash", script, "winvmctl", *words, ""],
                             capture_output=True, text=True, check=True, env={"PATH": "/nonexistent"}).stdout
        return [w for w in out.split("\n") if w]

    bash = shutil.which("bash")
    cmds = set()
    for verb in complete():
        subs = complete(verb)
        if subs:
            cmds |= {verb + " " + s for s in subs}
            # A verb that works alone as well: the page and --help say so with [sub] or a
            # line of its own; the completion cannot tell, so it is not compared.
            cmds.add(verb + " *")
        else:
            cmds.add(verb)
    return cmds


def main():
    winvmctl, page, completion = sys.argv[1:4]
    failed = False

    def compare(what, a_name, a, b_name, b):
        nonlocal failed
        only_a, only_b = sorted(a - b), sorted(b - a)
        if only_a or only_b:
            failed = True
            print("not ok - %s: %s and %s differ" % (what, a_name, b_name))
            for c in only_a:
                print("#   only in %s: %s" % (a_name, c))
            for c in only_b:
                print("#   only in %s: %s" % (b_name, c))
        else:
            print("ok - %s: %s and %s agree (%d)" % (what, a_name, b_name, len(a)))

    h_cmds, h_opts = help_commands(winvmctl)
    p_cmds, p_opts = page_commands(page)
    c_cmds = completion_commands(completion)
    if not h_cmds or not p_cmds:
        print("not ok - commands found (--help: %d, page: %d)" % (len(h_cmds), len(p_cmds)))
        sys.exit(1)
    compare("commands", "winvmctl --help", h_cmds, "winvmctl(1)", p_cmds)
    compare("long options", "winvmctl --help", h_opts, "winvmctl(1)", p_opts)
    # For the completion: a verb with subcommands stands for all of them ("verb *").
    with_subs = {c.split()[0] for c in h_cmds if " " in c}
    h_for_completion = {c for c in h_cmds if c.split()[0] not in with_subs or " " in c}
    h_for_completion |= {v + " *" for v in with_subs}
    compare("commands", "winvmctl --help", h_for_completion, "bash completion", c_cmds)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
