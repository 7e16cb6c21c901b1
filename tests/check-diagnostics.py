#!/usr/bin/python3
"""Every message format in the source must be printed by some test.

The programs append the format string of each message they print to $MODELC_DIAG_LOG (common/diag.c,
diag_record); the unit, golden and integration runners point it at BUILD/diag/{unit,golden,
integration}.log. This script extracts the format literals passed to the message functions from
the C sources of common/, hub/, sign/, compiler/ and runtime/ (adjacent literals joined, `c ? "a" : "b"`
giving both; functions and macros that pass their format parameter on to a message function are
found and their calls' literals taken) and compares:

  - a format in the source that no record holds fails, named FILE:LINE, unless
    tests/diagnostics-unprinted.txt lists it with the reason no test can print it;
  - a recorded format found in no source call fails (a message function the extractor missed,
    or a format that is not a literal), unless a unit test passed it (tests/unit/*.c);
  - a call whose format is neither a literal nor a wrapper's parameter fails;
  - a message printed to stderr past the message functions (fprintf(stderr, ...), perror, or
    fputs of a literal to stderr outside a function that records its format) fails;
  - an allow-list entry that no longer matches an unprinted format fails, so the list stays small.

usage: check-diagnostics.py RECORD_DIR|RECORD_FILE [BIN_DIR]
RECORD_DIR holds the runners' records; every *.log in it is read. Exit 0 all printed, 1 not, 77
when one of unit.log, golden.log and integration.log is missing or older than the programs in
BIN_DIR (run the unit, golden and integration tests, in that order, first). A RECORD_FILE (one
$MODELC_DIAG_LOG the caller gave every runner) is read as it is. The extractor checks itself on a
sample first; CHECK_DIAG_SELFTEST=1 does only that.
"""
import glob
import os
import re
import subprocess
import sys

# The message functions and the index of their format argument. Wrappers are found from these.
MESSAGE_FUNCS = {
    'diag_report': 3, 'diag_error': 2, 'diag_warning': 2, 'diag_note': 2,  # modelc: common/diag.h
    'diag_print': 1,        # lines with no input position, any program: common/diag.h
    'diag_record': 0,       # the record alone (common/diag.h)
    'swcmd_error': 0, 'swcmd_warning': 0, 'swcmd_note': 0,  # switch: runtime/switch/swcmd.h
    'fprogress_event': 5,   # fetch's events and errors: runtime/fetch/fprogress.h
}
SOURCE_DIRS = ('common', 'hub', 'sign', 'compiler', 'runtime')
PROGRAM_OF = (('compiler/', 'modelc'), ('hub/', 'modelc, fetch'), ('sign/', 'modelc, fetch'),
              ('runtime/switch/', 'switch'), ('runtime/http/', 'switch'), ('runtime/fetch/', 'fetch'),
              ('runtime/bench/', 'bench'),
              ('common/', 'common (every program)'))
RECORDS = ('unit.log', 'golden.log', 'integration.log')
ALLOW = os.path.join('tests', 'diagnostics-unprinted.txt')

ESC = {'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '"': '"', "'": "'", 'a': '\a',
       'b': '\b', 'f': '\f', 'v': '\v', '?': '?'}
LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
DEFINE = re.compile(r'^[ \t]*#[ \t]*define[ \t]+(\w+)\(([^)]*)\)', re.M)
# A function definition: at the start of a line, a return type, the name, parameters, '{'.
FUNC = re.compile(r'^(?:[A-Za-z_][\w \t*]*?[\s*])?(\w+)\(([^;{}()]*(?:\([^()]*\)[^;{}()]*)*)\)\s*\{', re.M)
STDERR_PRINT = re.compile(r'\b(?:v?fprintf\s*\(\s*stderr\b|perror\s*\(|fputs\s*\(\s*"(?:[^"\\\n]|\\.)*"\s*,\s*stderr\b)')


def strip_comments(src):
    """Blank out comments, keeping strings and line numbers."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == '\\' else 1
            out.append(src[i:j + 1]); i = j + 1
        elif src.startswith('/*', i):
            j = src.find('*/', i + 2); j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif src.startswith('//', i):
            j = src.find('\n', i); j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        else:
            out.append(c); i += 1
    return ''.join(out)


def unescape(body):
    """The text of a C string literal's body."""
    out, i = [], 0
    while i < len(body):
        if body[i] == '\\' and i + 1 < len(body):
            e = body[i + 1]
            if e == 'x':
                m = re.match(r'[0-9a-fA-F]+', body[i + 2:])
                out.append(chr(int(m.group(0), 16))); i += 2 + len(m.group(0)); continue
            if e in '01234567':
                m = re.match(r'[0-7]{1,3}', body[i + 1:])
                out.append(chr(int(m.group(0), 8))); i += 1 + len(m.group(0)); continue
            out.append(ESC.get(e, e)); i += 2
        else:
            out.append(body[i]); i += 1
    return ''.join(out)


def args_of(src, start):
    """Split the call's arguments starting after '('; returns (args, index of the ')')."""
    depth, i, cur, args = 1, start, [], []
    while i < len(src) and depth:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < len(src) and src[j] != c:
                j += 2 if src[j] == '\\' else 1
            cur.append(src[i:j + 1]); i = j + 1; continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if not depth:
                break
        if c == ',' and depth == 1:
            args.append(''.join(cur)); cur = []
        else:
            cur.append(c)
        i += 1
    args.append(''.join(cur))
    return args, i


def literal(arg):
    """The text of an argument made only of adjacent string literals, else None."""
    a = arg.strip()
    parts = LIT.findall(a)
    if not parts or LIT.sub('', a).strip():
        return None
    return unescape(''.join(parts))


def literals(arg):
    """The formats an argument can be: one literal, or both branches of `c ? "a" : "b"`."""
    one = literal(arg)
    if one is not None:
        return [one]
    masked = LIT.sub(lambda m: '_' * len(m.group(0)), arg)
    q = masked.find('?')
    c = masked.find(':', q + 1) if q >= 0 else -1
    if q < 0 or c < 0 or '?' in masked[q + 1:]:
        return None
    a, b = literal(arg[q + 1:c]), literal(arg[c + 1:])
    return [a, b] if a is not None and b is not None else None


def functions(src):
    """(name, params, start of body, end of body) of each function defined in src."""
    out = []
    for m in FUNC.finditer(src):
        if m.group(1) in ('if', 'for', 'while', 'switch', 'return', 'sizeof'):
            continue
        depth, i = 0, m.end() - 1
        while i < len(src):
            if src[i] == '"' or src[i] == "'":
                q = src[i]; i += 1
                while i < len(src) and src[i] != q:
                    i += 2 if src[i] == '\\' else 1
            elif src[i] == '{':
                depth += 1
            elif src[i] == '}':
                depth -= 1
                if not depth:
                    break
            i += 1
        params = [re.sub(r'.*?(\w+)\s*(?:\[\w*\])?\s*$', r'\1', p.strip()) for p in m.group(2).split(',')]
        out.append((m.group(1), params, m.end() - 1, i))
    return out


def macro_at(src, pos):
    """The #define (name, params) whose body holds pos, else None."""
    start = src.rfind('\n', 0, pos) + 1
    while start > 0 and src[start - 2:start] == '\\\n':
        start = src.rfind('\n', 0, start - 2) + 1
    m = DEFINE.match(src, start)
    return (m.group(1), [x.strip() for x in m.group(2).split(',')]) if m else None


def line_of(src, pos):
    return src.count('\n', 0, pos) + 1


def extract(texts):
    """Format sites [(path, line, function, format)], problems [text], and the message functions
    with wrappers {name: format index}, each wrapper's callee in via."""
    funcs = dict(MESSAGE_FUNCS)
    via = {}
    sites, problems, seen = [], [], set()
    defs = {p: functions(s) for p, s in texts.items()}
    pending = list(funcs)
    while pending:
        name = pending.pop()
        idx = funcs[name]
        call = re.compile(r'(?<![\w.>])' + re.escape(name) + r'\s*\(')
        for path, src in sorted(texts.items()):
            for m in call.finditer(src):
                if (path, m.start()) in seen:
                    continue
                args, end = args_of(src, m.end())
                mac = macro_at(src, m.start())
                enclosing = [d for d in defs[path] if d[2] < m.start() < d[3]]
                if len(args) <= idx or (not enclosing and not mac) or \
                        (mac and mac[0] == name and src.rfind('define', 0, m.start()) > src.rfind('\n', 0, m.start())):
                    continue  # a definition or a prototype (outside any body), or a macro's own #define line
                seen.add((path, m.start()))
                fmt = args[idx].strip()
                got = literals(fmt)
                if got is not None:
                    sites += [(path, line_of(src, m.start()), name, f) for f in got]
                    continue
                if mac and fmt == '__VA_ARGS__':
                    wname, widx = mac[0], mac[1].index('...') if '...' in mac[1] else len(mac[1]) - 1
                else:
                    if enclosing and fmt in enclosing[-1][1]:
                        wname, widx = enclosing[-1][0], enclosing[-1][1].index(fmt)
                    else:
                        problems.append('%s:%d: the format of %s() is not a literal: %s'
                                        % (path, line_of(src, m.start()), name, fmt))
                        continue
                if wname not in funcs:
                    funcs[wname] = widx
                    via[wname] = name
                    pending.append(wname)
    return sites, problems, funcs, via


def stray_prints(texts, funcs):
    """Messages printed to stderr outside a message function: [text]."""
    out = []
    for path, src in sorted(texts.items()):
        bodies = [(a, b) for name, _, a, b in functions(src) if name in funcs]
        for m in STDERR_PRINT.finditer(src):
            if any(a < m.start() < b for a, b in bodies):
                continue
            out.append('%s:%d: prints to stderr past the message functions (use diag_print or the '
                       'program\'s message function): %s' % (path, line_of(src, m.start()),
                                                              src[m.start():src.find('\n', m.start())].strip()))
    return out


def log_unescape(line):
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 'r': '\r'}.get(m.group(1), m.group(1)), line)


def log_escape(fmt):
    return fmt.replace('\\', '\\\\').replace('\n', '\\n').replace('\r', '\\r')


def read_allow(path, sanitizer):
    """{(file, format): reason} from the allow-list: FILE, a tab, the format as the record
    writes it, a tab, the reason; '#' starts a comment line. FILE 'sanitizer:F' is F for a
    sanitizer build and no entry otherwise."""
    out = {}
    if not os.path.exists(path):
        return out
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if not line.strip() or line.startswith('#'):
            continue
        parts = line.split('\t')
        if len(parts) != 3 or not parts[2].strip():
            sys.exit('%s:%d: expected FILE<tab>FORMAT<tab>REASON' % (path, n))
        if parts[0].startswith('sanitizer:'):
            if not sanitizer:
                continue
            parts[0] = parts[0][len('sanitizer:'):]
        out[(parts[0], log_unescape(parts[1]))] = parts[2].strip()
    return out


def sanitizer_build(bindir):
    """Whether the programs in bindir were built with AddressSanitizer (make SAN=1)."""
    if not bindir or not os.path.exists(os.path.join(bindir, 'modelc')):
        return False
    r = subprocess.run(['ldd', os.path.join(bindir, 'modelc')], capture_output=True, text=True)
    return 'libasan' in r.stdout


def sources(dirs=SOURCE_DIRS):
    out = {}
    for top in dirs:
        for d, ds, files in os.walk(top):
            ds.sort()
            for f in sorted(files):
                if f.endswith('.c'):
                    p = os.path.join(d, f)
                    out[p] = strip_comments(open(p, encoding='utf-8', errors='replace').read())
    return out


def program(path):
    return next((prog for prefix, prog in PROGRAM_OF if path.startswith(prefix)), '?')


def main(argv):
    if os.environ.get('CHECK_DIAG_SELFTEST') == '1':
        return selftest()
    selftest(quiet=True)
    if len(argv) < 2:
        print(__doc__.split('\n\n')[-1].split('\n')[0])
        return 2
    rdir, bindir = argv[1], argv[2] if len(argv) > 2 else None
    newest = max((os.path.getmtime(p) for p in glob.glob(os.path.join(bindir, '*'))), default=0) if bindir else 0
    if os.path.isdir(rdir):
        records = sorted(glob.glob(os.path.join(rdir, '*.log')))
        for r in RECORDS:
            p = os.path.join(rdir, r)
            if not os.path.exists(p):
                print('no record %s: run the unit, golden and integration tests first (make check)' % p)
                return 77
            if os.path.getmtime(p) < newest - 1:
                print('the record %s is older than the programs in %s: run the tests again' % (p, bindir))
                return 77
    else:
        records = [rdir]
    fired = set()
    for r in records:
        fired |= {log_unescape(l.rstrip('\n')) for l in open(r, encoding='utf-8', errors='replace')}

    texts = sources()
    sites, problems, funcs, via = extract(texts)
    problems += stray_prints(texts, funcs)
    unit_sites = extract(sources([os.path.join('tests', 'unit')]))[0]
    known = {f for _, _, _, f in sites} | {f for _, _, _, f in unit_sites}
    allow = read_allow(ALLOW, sanitizer_build(bindir))

    unprinted, allowed = [], set()
    for path, line, func, fmt in sites:
        if fmt in fired:
            continue
        if (path, fmt) in allow:
            allowed.add((path, fmt))
            continue
        unprinted.append('%s:%d: no test prints this format (%s): %s' % (path, line, func, log_escape(fmt)))
    stale = ['%s: %s\t%s: the entry is not needed (printed now, or no longer in the source)'
             % (ALLOW, p, log_escape(f)) for p, f in sorted(set(allow) - allowed)]
    unknown = ['a program printed a format found in no message call: %s' % log_escape(f)
               for f in sorted(fired - known)]

    # The message paths covered: each message function (wrappers listed with theirs) by program.
    table = {}
    for path, _, func, fmt in sites:
        t = table.setdefault((func, program(path)), [set(), set()])
        t[0].add(fmt)
        if fmt in fired:
            t[1].add(fmt)
    print('message paths recorded (function [-> the one it calls]: program, formats printed/in the source):')
    for (func, prog), (all_, got) in sorted(table.items()):
        chain, f = [func], func
        while f in via:
            f = via[f]
            chain.append(f)
        print('  %s: %s, %d/%d' % (' -> '.join(chain), prog, len(got), len(all_)))
    for line in problems + unprinted + unknown + stale:
        print(line)
    print('%d format sites (%d distinct formats) in the source; %d records hold %d distinct formats; '
          '%d unprinted, %d allowed unprinted, %d unknown, %d problems'
          % (len(sites), len({f for _, _, _, f in sites}), len(records),
             len(fired), len(unprinted), len(allowed), len(unknown), len(problems) + len(stale)))
    return 1 if problems or unprinted or unknown or stale else 0


def selftest(quiet=False):
    """Check the extractor on a sample; an assertion fails when it is wrong."""
    src = strip_comments(
        '/* diag_error(d, p, "in a comment") */\nvoid\ng(void)\n{\n'
        'diag_error(d, p, "models.%s: needs %.2f GiB, "\n  "budget is %u%%", a, b, c);\n'
        'diag_report(d, DIAG_NOTE, pos, "plain \\"quoted\\" text\\n");\n'
        'diag_warning(d, p, name, x);\n}\n'
        '#define MY_ERR(st, pos, ...) \\\n  do { diag_error((st)->d, (pos), __VA_ARGS__); } while (0)\n'
        'static void\nwarn_at(struct s *x, const char *fmt, int v)\n{\n  diag_warning(x->d, x->p, fmt, v);\n}\n'
        'static int outer(const char *what, const char *fmt)\n{\n  warn_at(0, fmt, 1);\n  return 0;\n}\n'
        'int\nf(void)\n{\n  MY_ERR(st, pos, "macro %d", 1); warn_at(x, "func %s", 2);\n'
        '  outer("w", "twice %s");\n  swcmd_note(n == 1 ? "one\\n" : "many\\n");\n'
        '  fprintf(stderr, "stray %s\\n", s);\n  fputs(usage, stderr);\n  x.diag_print(1);\n}\n'
        'static void\nmsg(const char *fmt)\n{\n  diag_record(fmt);\n  fputs("p: ", stderr);\n}\n'
        'static int late(const char *fmt, ...) __attribute__((format(printf, 1, 2)));\n'
        'void swcmd_error(const char *fmt, ...);\n')
    sites, problems, funcs, via = extract({'x.c': src})
    got = [(line, f) for _, line, _, f in sites]
    assert sorted(got) == sorted([(5, 'models.%s: needs %.2f GiB, budget is %u%%'), (7, 'plain "quoted" text\n'),
                                  (25, 'macro %d'), (25, 'func %s'), (26, 'twice %s'), (27, 'one\n'),
                                  (27, 'many\n')]), got
    assert len(problems) == 1 and problems[0].startswith('x.c:8:') and problems[0].endswith(': name'), problems
    assert funcs['MY_ERR'] == 2 and funcs['warn_at'] == 1 and funcs['outer'] == 1 and funcs['msg'] == 0, funcs
    assert via['outer'] == 'warn_at' and via['warn_at'] == 'diag_warning', via
    stray = stray_prints({'x.c': src}, funcs)
    assert len(stray) == 1 and stray[0].startswith('x.c:28:'), stray
    for f in ('a\nb\\n\\c\r', '', '%s\\'):
        assert log_unescape(log_escape(f)) == f
    if not quiet:
        print('selftest passed')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
