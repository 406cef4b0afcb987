#!/usr/bin/env python3
"""Generates scdoc sources for winvm's man pages from the files they document.

  gen-scd.py bus --errors-h common/error-names.h --errors-c common/error-names.c \\
                 --client-errors client/client-errors.c --client-exit client/client-errors.h \\
                 -o OUT dbus/*.xml
      org.winvm1(5): the bus API from the interface XML and its comments (one starting with
      "Member:" or "A, B:" documents those members; any other is a note in place), the
      named errors from common/error-names.[ch] with their description in the XML and
      winvmctl's exit status.

  gen-scd.py polkit --policy polkit/org.winvm1.policy --template TEMPLATE -o OUT dbus/*.xml
      Copies TEMPLATE to OUT with the line @POLKIT_ACTIONS@ replaced by the polkit actions
      of the policy file (description and defaults) and the bus members that use each.

Only the Python standard library; the output is deterministic.
"""
import argparse
import re
import sys
import textwrap
import xml.etree.ElementTree as ET
import xml.parsers.expat

MEMBER_KINDS = ("method", "property", "signal")
NAME_PREFIX = re.compile(r"^([A-Z][A-Za-z0-9]*(?:, [A-Z][A-Za-z0-9]*)*):\s+")
OBJECT_PATH = re.compile(r"/org/winvm1(?:/[A-Za-z0-9_]+|/<[^>]*>)*")
ERROR_NAME = re.compile(r"org\.(?:winvm1|freedesktop\.DBus)\.Error\.[A-Za-z]+")
ACTION_ID = re.compile(r"org\.winvm1\.[a-z-]+\.[a-z-]+")


# --- scdoc text ---------------------------------------------------------------------------

def esc(text):
    """Text for an scdoc paragraph, its formatting characters escaped. (A paragraph is one
    line here, so only a comment starting with '.' could read as a roff request; none does.)"""
    text = text.replace("\\", "\\\\").replace("*", "\\*").replace("_", "\\_")
    return text


def literal(text):
    """Text for an scdoc literal block (scdoc still reads backslash escapes there)."""
    return text.replace("\\", "\\\\")


def paragraphs(text):
    """Splits a dedented comment into (is_preformatted, lines) blocks. A line followed by
    lines indented deeper than it (a list, a table) starts a block that keeps its layout, as
    does a line aligning columns with runs of spaces; the rest is prose, to be reflowed."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip("\n")):
        lines = [l.rstrip() for l in para.split("\n") if l.strip()]
        if not lines:
            continue
        base = min(len(l) - len(l.lstrip()) for l in lines)
        lines = [l[base:] for l in lines]
        i = 0
        while i < len(lines):
            j = i + 1
            while j < len(lines) and lines[j].startswith(" "):
                j += 1
            pre = j > i + 1 or re.search(r"\S {3,}\S", lines[i]) is not None
            if out and out[-1][0] == pre and out[-1][2] is para:
                out[-1][1].extend(lines[i:j])
            else:
                out.append((pre, lines[i:j], para))
            i = j
    return [(pre, block) for pre, block, _ in out]


def render_text(text, indent=""):
    """scdoc lines for a comment's text, each line prefixed with indent (a tab inside a
    definition)."""
    out = []
    for pre, lines in paragraphs(text):
        if out:
            out.append("")
        if pre:
            out.append(indent + "```")
            out.extend(indent + literal(l) for l in lines)
            out.append(indent + "```")
        else:
            prose = " ".join(l.strip() for l in lines)
            out.append(indent + esc(prose))
    return out


def dedent_comment(data, column):
    """A comment's text without the indentation of the XML around it. column is where
    "<!--" starts; the first line of data follows it."""
    lines = data.split("\n")
    lines[0] = " " * (column + 4) + lines[0]
    return textwrap.dedent("\n".join(lines)).strip("\n")


# --- the interface XML ----------------------------------------------------------------------

class Member:
    def __init__(self, kind, name, attrs):
        self.kind, self.name, self.attrs = kind, name, attrs
        self.args = []      # (direction, name, type)
        self.annotations = []
        self.docs = []


class Interface:
    def __init__(self, name, source):
        self.name, self.source = name, source
        self.docs = []      # comments before the interface element
        self.items = []     # in document order: ("member", Member) or ("note", text)
        self.header = ""    # the file's comment before <node>

    def members(self, kind=None):
        return [m for t, m in self.items if t == "member" and (kind is None or m.kind == kind)]


def parse_interface_file(path):
    """The interfaces of one introspection file, with their comments attached."""
    with open(path, "rb") as f:
        data = f.read()
    parser = xml.parsers.expat.ParserCreate()
    interfaces = []
    header = []
    state = {"in_node": False, "iface": None, "member": None, "pending": []}

    def on_comment(text):
        text = dedent_comment(text, parser.CurrentColumnNumber)
        if not state["in_node"]:
            header.append(text)
        else:
            state["pending"].append(text)

    def flush_pending_as_notes(iface):
        for text in state["pending"]:
            iface.items.append(("pending", text))
        state["pending"] = []

    def on_start(name, attrs):
        if name == "node" and not state["in_node"]:
            state["in_node"] = True
        elif name == "interface":
            iface = Interface(attrs["name"], path)
            iface.header = "\n\n".join(header)
            iface.docs = state["pending"]
            state["pending"] = []
            state["iface"] = iface
            interfaces.append(iface)
        elif name in MEMBER_KINDS and state["iface"] is not None:
            m = Member(name, attrs["name"], attrs)
            iface = state["iface"]
            flush_pending_as_notes(iface)
            iface.items.append(("member", m))
            state["member"] = m
        elif name == "arg" and state["member"] is not None:
            m = state["member"]
            direction = attrs.get("direction", "in" if m.kind == "method" else "out")
            m.args.append((direction, attrs.get("name", ""), attrs["type"]))
        elif name == "annotation":
            target = state["member"] or state["iface"]
            if target is not None:
                target.annotations.append((attrs["name"], attrs.get("value", "")))

    def on_end(name):
        if name in MEMBER_KINDS:
            state["member"] = None
        elif name == "interface":
            flush_pending_as_notes(state["iface"])
            state["iface"] = None

    parser.CommentHandler = on_comment
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    parser.Parse(data, True)

    # A comment starting with "Name:" (or "A, B:") documents those members wherever it
    # stands (the Manager's GetVM comment stands before Doctor); any other is a note, kept
    # in place before the member after it.
    for iface in interfaces:
        by_name = {m.name: m for m in iface.members()}
        items = []
        waiting = []
        for kind, x in iface.items:
            if kind == "pending":
                match = NAME_PREFIX.match(x)
                names = match.group(1).split(", ") if match else []
                if names and all(n in by_name for n in names):
                    body = x[match.end():]
                    body = body[:1].upper() + body[1:]
                    for n in names:
                        by_name[n].docs.append(body)
                else:
                    waiting.append(x)
                continue
            # Any other comment is a note about what follows, in place.
            items.extend(("note", w) for w in waiting)
            waiting = []
            items.append((kind, x))
        items.extend(("note", w) for w in waiting)
        iface.items = items
    return interfaces


def signature(m):
    """A member's line in the overview, as systemd's bus API pages write it."""
    if m.kind == "property":
        access = {"read": "readonly", "write": "writeonly", "readwrite": "readwrite"}[m.attrs.get("access", "read")]
        return "%s %s %s;" % (access, m.attrs["type"], m.name)
    if m.kind == "signal":
        args = ", ".join("%s %s" % (t, n) for _, n, t in m.args)
    else:
        args = ", ".join("%s %s %s" % (d, t, n) for d, n, t in m.args)
    return "%s(%s);" % (m.name, args)


def term(m):
    """A member's term in its definition list: *Name*(type name, ...) -> (type name)."""
    if m.kind == "property":
        return "*%s* (property, _%s_, %s)" % (esc(m.name), esc(m.attrs["type"]), m.attrs.get("access", "read"))
    if m.kind == "signal":
        args = ", ".join("_%s_ %s" % (esc(t), esc(n)) for _, n, t in m.args)
        return "*%s*(%s) (signal)" % (esc(m.name), args)
    ins = ", ".join("_%s_ %s" % (esc(t), esc(n)) for d, n, t in m.args if d == "in")
    outs = ", ".join("_%s_ %s" % (esc(t), esc(n)) for d, n, t in m.args if d == "out")
    return "*%s*(%s)%s" % (esc(m.name), ins, " -> (%s)" % outs if outs else "")


def object_path_of(iface):
    match = OBJECT_PATH.search(iface.header)
    return match.group(0) if match else "/org/winvm1"


def strip_error_lists(text):
    """The header without its "Errors ..." paragraphs, which ERRORS gathers."""
    paras = re.split(r"\n\s*\n", text)
    return "\n\n".join(p for p in paras if not p.lstrip().startswith("Errors"))


def header_errors(text):
    """{error name: description} from a header: aligned lists ("NAME   text", continued on
    deeper-indented lines) and inline "NAME (text)" mentions."""
    found = {}
    current = None
    for line in text.split("\n"):
        match = re.match(r"^\s*(%s)\s{2,}(\S.*)$" % ERROR_NAME.pattern, line)
        if match:
            current = match.group(1)
            found[current] = match.group(2).strip()
        elif current and re.match(r"^\s{8,}\S", line):
            found[current] += " " + line.strip()
        else:
            current = None
    for match in re.finditer(r"(%s) \(([^)]*)\)" % ERROR_NAME.pattern, text.replace("\n", " ")):
        found.setdefault(match.group(1), re.sub(r"\s+", " ", match.group(2)))
    return found


def short_name(iface_name):
    return iface_name.rsplit(".", 1)[-1]


# --- errors ---------------------------------------------------------------------------------

def read_errors(errors_h, errors_c, client_c, client_h):
    """[(bus name, errno name, winvmctl exit status)] in error-names.c's order, and the exit
    status of the standard errors winvmctl maps."""
    with open(errors_h) as f:
        defines = dict(re.findall(r'#define\s+(WINVM_ERROR_\w+)\s+"([^"]+)"', f.read()))
    with open(errors_c) as f:
        mapped = re.findall(r"SD_BUS_ERROR_MAP\((WINVM_ERROR_\w+),\s*(E\w+)\)", f.read())
    with open(client_h) as f:
        exits = {k: int(v) for k, v in re.findall(r"(EXIT_\w+)\s*=\s*(\d+)", f.read())}
    with open(client_c) as f:
        table = re.findall(r"\{\s*([A-Z_]+|\"[^\"]+\"),\s*(EXIT_\w+)\s*\}", f.read())
    std = {"SD_BUS_ERROR_ACCESS_DENIED": "org.freedesktop.DBus.Error.AccessDenied",
           "SD_BUS_ERROR_INVALID_ARGS": "org.freedesktop.DBus.Error.InvalidArgs",
           "SD_BUS_ERROR_SERVICE_UNKNOWN": "org.freedesktop.DBus.Error.ServiceUnknown",
           "SD_BUS_ERROR_UNKNOWN_OBJECT": "org.freedesktop.DBus.Error.UnknownObject"}
    exit_of = {}
    for key, code in table:
        name = defines.get(key) or std.get(key) or key.strip('"')
        exit_of.setdefault(name, exits.get(code, 1))
    errors = [(defines[k], e, exit_of.get(defines[k], exits.get("EXIT_FAILED", 1))) for k, e in mapped
              if k in defines]
    # Defined but not in the errno map: still an error of the API.
    for k, name in defines.items():
        if all(name != n for n, _, _ in errors):
            errors.append((name, "", exit_of.get(name, 1)))
    return errors, exit_of


# --- polkit ---------------------------------------------------------------------------------

def read_policy(path):
    root = ET.parse(path).getroot()
    actions = []
    for a in root.findall("action"):
        d = a.find("defaults")
        defaults = tuple((d.findtext(k) or "no").strip() for k in ("allow_any", "allow_inactive", "allow_active"))
        actions.append((a.get("id"), (a.findtext("description") or "").strip(), defaults))
    return actions


def action_users(interfaces):
    """{action id: [Interface.Member or Interface (reads)]} from the XML comments."""
    users = {}
    for iface in interfaces:
        texts = [(short_name(iface.name), "\n".join([iface.header] + iface.docs))]
        texts += [("%s.%s" % (short_name(iface.name), m.name), "\n".join(m.docs)) for m in iface.members()]
        for who, text in texts:
            for action in ACTION_ID.findall(text.replace("\n", " ")):
                lst = users.setdefault(action, [])
                if who not in lst:
                    lst.append(who)
    return users


DEFAULT_WORDS = {
    "yes": "allowed",
    "no": "refused",
    "auth_self": "the user's own password",
    "auth_self_keep": "the user's own password, remembered for a while",
    "auth_admin": "an administrator's password",
    "auth_admin_keep": "an administrator's password, remembered for a while",
}


def describe_defaults(defaults):
    any_, inactive, active = defaults
    if any_ == inactive == active:
        return "%s (*%s*)" % (DEFAULT_WORDS.get(active, active), esc(active))
    if any_ == inactive:
        return "in an active session %s (*%s*), otherwise %s (*%s*)" % (
            DEFAULT_WORDS.get(active, active), esc(active), DEFAULT_WORDS.get(any_, any_), esc(any_))
    return "in an active session %s (*%s*), in an inactive one %s (*%s*), otherwise %s (*%s*)" % (
        DEFAULT_WORDS.get(active, active), esc(active), DEFAULT_WORDS.get(inactive, inactive), esc(inactive),
        DEFAULT_WORDS.get(any_, any_), esc(any_))


def polkit_lines(policy, interfaces):
    users = action_users(interfaces)
    out = []
    for action, description, defaults in read_policy(policy):
        if out:
            out.append("")
        out.append("*%s*" % esc(action))
        text = "%s. Default: %s." % (description, describe_defaults(defaults))
        if users.get(action):
            text += " Checked by: %s (see *org.winvm1*(5))." % ", ".join(esc(u) for u in users[action])
        out.append("\t" + text)
    return out


# --- org.winvm1(5) --------------------------------------------------------------------------

def bus_page(args, interfaces):
    errors, exit_of = read_errors(args.errors_h, args.errors_c, args.client_errors, args.client_exit)
    described = {}
    for iface in interfaces:
        # A file's header speaks for every interface in the file.
        label = " and ".join(short_name(x.name) for x in interfaces if x.source == iface.source)
        for name, text in header_errors(iface.header + "\n\n" + "\n\n".join(iface.docs)).items():
            lst = described.setdefault(name, [])
            if all(t != text for _, t in lst):
                lst.append((label, text))

    out = ["org.winvm1(5)", "", "# NAME", "", "org.winvm1 - the D-Bus API of winvmd", "",
           "# DESCRIPTION", "",
           "*winvmd*(8) owns the name *org.winvm1* on the system bus. Every object also has the "
           "standard interfaces *org.freedesktop.DBus.Properties*, *org.freedesktop.DBus.Introspectable* "
           "and *org.freedesktop.DBus.Peer*; */org/winvm1* has *org.freedesktop.DBus.ObjectManager*, "
           "whose *GetManagedObjects* lists the host, the storage, every VM and every job with the "
           "properties of their *org.winvm1* interfaces (the standard interfaces, which have no "
           "properties, are left out of it) and whose *InterfacesAdded* and *InterfacesRemoved* "
           "signals announce jobs as they come and go. "
           "Properties that change are signalled with *PropertiesChanged*; nothing needs polling.",
           "",
           "Every method call and every read of VM data is checked by polkit, with the caller's bus "
           "name as the subject and details such as *vm*, *verb*, *snapshot* and *filesystem* (see "
           "*winvmd*(8) for the actions and their defaults). A caller that sets the "
           "ALLOW_INTERACTIVE_AUTHORIZATION flag may be asked for a password. A refusal is "
           "*org.freedesktop.DBus.Error.AccessDenied* with a message naming the action.",
           "",
           "Types are D-Bus signatures (*s* string, *b* boolean, *u* uint32, *t* uint64, *d* double, "
           "*o* object path, *a* array, *{}* dictionary entry, *()* struct, *v* variant). The "
           "interface files this page is made from are installed in "
           "_/usr/share/dbus-1/interfaces/_; *busctl introspect org.winvm1* _PATH_ shows the "
           "running service's.",
           "",
           "# OBJECTS", ""]
    paths = []
    for iface in interfaces:
        p = object_path_of(iface)
        found = [x for x in paths if x[0] == p]
        if found:
            found[0][1].append(iface.name)
        else:
            paths.append((p, [iface.name]))
    for i, (p, names) in enumerate(paths):
        if i:
            out.append("")
        out.append("*%s*" % esc(p))
        out.append("\t" + ", ".join("*%s*" % esc(n) for n in names) + ".")

    for iface in interfaces:
        out += ["", "# INTERFACE %s" % iface.name, ""]
        intro = strip_error_lists(iface.header)
        # The file header of a file with several interfaces comes once, with the first.
        first_in_file = next(x for x in interfaces if x.source == iface.source) is iface
        if not first_in_file or object_path_of(iface) not in intro:
            out += ["On *%s*." % esc(object_path_of(iface)), ""]
        if first_in_file:
            out += render_text(intro) + [""]
        for d in iface.docs:
            text = strip_error_lists(d)
            if text.strip():
                out += render_text(text) + [""]
        out += ["```", "interface %s {" % iface.name]
        for kind, title in (("method", "methods"), ("signal", "signals"), ("property", "properties")):
            members = iface.members(kind)
            if members:
                out.append("  %s:" % title)
                for m in members:
                    # Annotations as systemd's pages show them, above their member.
                    out += ['    @%s("%s")' % (n, literal(v)) for n, v in m.annotations]
                    out.append("    " + literal(signature(m)))
        out += ["};", "```"]
        for kind, x in iface.items:
            out.append("")
            if kind == "note":
                out += render_text(x)
                continue
            out.append(term(x))
            text = "\n\n".join(x.docs) if x.docs else "(Not documented further.)"
            out += render_text(text, "\t")

    out += ["", "# ERRORS", "",
            "Named errors a caller can act on. *winvmctl*(1) exits with the status given for each. "
            "Any method may also fail with *org.freedesktop.DBus.Error.AccessDenied* (polkit refused; "
            "exit status %d) or *org.freedesktop.DBus.Error.InvalidArgs* (wrong argument types; exit "
            "status %d)." % (exit_of.get("org.freedesktop.DBus.Error.AccessDenied", 3),
                             exit_of.get("org.freedesktop.DBus.Error.InvalidArgs", 2))]
    for name, errno_name, code in errors:
        out += ["", "*%s*" % esc(name)]
        texts = described.get(name, [])
        text = " ".join("%s: %s%s" % (i, t, "" if t.endswith(".") else ".")
                        for i, t in texts) if texts else "See the methods above."
        facts = (["errno %s" % errno_name] if errno_name else []) + ["winvmctl exit status %d" % code]
        out.append("\t%s (%s.)" % (esc(text), "; ".join(facts)))
    out += ["", "# SEE ALSO", "", "*winvmd*(8), *winvmctl*(1), *winvm.conf*(5), *busctl*(1), *polkit*(8)", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    b = sub.add_parser("bus")
    b.add_argument("--errors-h", required=True)
    b.add_argument("--errors-c", required=True)
    b.add_argument("--client-errors", required=True)
    b.add_argument("--client-exit", required=True)
    b.add_argument("-o", "--out", required=True)
    b.add_argument("xml", nargs="+")
    p = sub.add_parser("polkit")
    p.add_argument("--policy", required=True)
    p.add_argument("--template", required=True)
    p.add_argument("-o", "--out", required=True)
    p.add_argument("xml", nargs="*")
    args = ap.parse_args()

    # The Manager's file first (the root object), then the others by file name; in each file
    # its interfaces in their order there, so its header comes with the first.
    interfaces = []
    for path in sorted(args.xml, key=lambda p: (not p.endswith("org.winvm1.Manager.xml"), p.rsplit("/", 1)[-1])):
        interfaces += parse_interface_file(path)

    if args.mode == "bus":
        text = bus_page(args, interfaces)
    else:
        with open(args.template) as f:
            template = f.read()
        if "@POLKIT_ACTIONS@\n" not in template:
            sys.exit("gen-scd.py: %s has no line @POLKIT_ACTIONS@" % args.template)
        text = template.replace("@POLKIT_ACTIONS@\n", "\n".join(polkit_lines(args.policy, interfaces)) + "\n")
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
