#!/usr/bin/env python3
"""layout-check.py SOURCE_ROOT BUILD_ROOT

Enforces the rule of service/'s folders (lib, bus, work, runtime; docs/design.md): a file under
service/ declares only functions that a .c file of its own folder defines. Another folder's
function is reached through that folder's header, never through a declaration of one's own.

The compiler, not a regex over C, says what is declared and defined: every service/ source in
the build's compile_commands.json is parsed again with its own flags and gcc's -aux-info, which
writes one normalised line per function declaration or definition the translation unit saw,
with the file and line it came from. Exits 1 and names each offending declaration.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

# /* FILE:LINE:NC */ extern int foo (int);   (C: a declaration, F: a definition)
AUX_LINE = re.compile(r'^/\* (.+):(\d+):[NO]([CF]) \*/ (.*)$')
# The declared name: the first identifier followed by " (" that is not "(*" (a return type
# that is a function pointer).
AUX_NAME = re.compile(r'\b([A-Za-z_]\w*) \((?!\*)')

# Flags that make an object file or a dependency file, which a syntax-only pass must not get.
DROP_WITH_ARG = {'-o', '-MQ', '-MF', '-MT'}
DROP = {'-c', '-MD', '-MMD', '-fdiagnostics-color=always'}


def syntax_only_command(entry, aux):
    argv = shlex.split(entry['command'])
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in DROP_WITH_ARG:
            skip = True
        elif a not in DROP and a != entry['file']:
            out.append(a)
    return out + ['-fsyntax-only', '-w', '-aux-info', aux, entry['file']]


def aux_info(entry):
    with tempfile.NamedTemporaryFile(suffix='.aux') as aux:
        cmd = syntax_only_command(entry, aux.name)
        run = subprocess.run(cmd, cwd=entry['directory'], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f'layout-check: cannot parse {entry["file"]}:\n{run.stderr}')
        return entry['directory'], open(aux.name).read().splitlines()


def main():
    src, build = (os.path.realpath(p) for p in sys.argv[1:3])
    service = os.path.join(src, 'service') + os.sep
    with open(os.path.join(build, 'compile_commands.json')) as f:
        entries = json.load(f)
    units, seen = [], set()
    for e in entries:
        path = os.path.realpath(os.path.join(e['directory'], e['file']))
        if path.startswith(service) and path not in seen:
            seen.add(path)
            units.append(e)
    if not units:
        sys.exit('layout-check: no service/ sources in compile_commands.json')

    defined = {}      # name -> the service/ file that defines it (extern linkage)
    declared = set()  # (name, declaring service/ file, line)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for directory, lines in pool.map(aux_info, units):
            for line in lines:
                m = AUX_LINE.match(line)
                if not m:
                    continue
                where, lineno, kind, proto = m.groups()
                where = os.path.realpath(os.path.join(directory, where))
                name = AUX_NAME.search(proto)
                if not where.startswith(service) or not name:
                    continue
                name = name.group(1)
                if kind == 'F':
                    if not proto.startswith('static '):
                        defined[name] = where
                else:
                    declared.add((name, where, int(lineno)))

    def rel(p):
        return os.path.relpath(p, src)

    wrong = []
    for name, where, lineno in sorted(declared, key=lambda d: (d[1], d[2])):
        home = defined.get(name)
        if home and home != where and os.path.dirname(home) != os.path.dirname(where):
            wrong.append(f'{rel(where)}:{lineno}: declares {name}(), which {rel(home)} defines: '
                         f'declare it in a header of {rel(os.path.dirname(home))}/ and include that')
    for w in wrong:
        print(w)
    print(f'layout-check: {len(units)} service/ sources, {len(defined)} functions defined, '
          f'{len(declared)} declarations, {len(wrong)} across folders')
    return 1 if wrong else 0


if __name__ == '__main__':
    sys.exit(main())
