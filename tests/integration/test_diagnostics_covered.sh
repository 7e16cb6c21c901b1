#!/bin/sh
# Every diagnostic format string in compiler/, common/ and runtime/ (the literal passed to
# diag_error, diag_warning, diag_note or diag_report) must be produced by some test: it has to
# match, with each printf conversion as a wildcard, a line of an expected output under tests/
# (golden stdout/stderr files, string literals of the unit tests, the integration tests' text).
# Fails naming each format string nobody asserts. Formats that are not literals are listed as
# unchecked. CHECK_DIAG_SELFTEST=1 runs the extractor against a built-in sample instead.
set -u
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 - "$@" <<'EOF'
import os, re, sys

CALL = re.compile(r'\bdiag_(error|warning|note|report)\s*\(')
CONV = re.compile(r'%(?:%|[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|j|z|t|L)?[diouxXeEfFgGaAcspn])')
ESC = {'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0', 'a': '\a',
       'b': '\b', 'f': '\f', 'v': '\v', '?': '?'}


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
    out, i = [], 0
    while i < len(body):
        if body[i] == '\\' and i + 1 < len(body):
            e = body[i + 1]
            if e == 'x':
                m = re.match(r'[0-9a-fA-F]+', body[i + 2:])
                out.append(chr(int(m.group(0), 16))); i += 2 + len(m.group(0)); continue
            if e in '01234567' and e != '0' or (e == '0' and i + 2 < len(body) and body[i + 2] in '01234567'):
                m = re.match(r'[0-7]{1,3}', body[i + 1:])
                out.append(chr(int(m.group(0), 8))); i += 1 + len(m.group(0)); continue
            out.append(ESC.get(e, e)); i += 2
        else:
            out.append(body[i]); i += 1
    return ''.join(out)


LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def args_of(src, start):
    """Split the call's arguments starting after '('; returns (args, end)."""
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


DEFINE = re.compile(r'^[ \t]*#[ \t]*define[ \t]+(\w+)\(([^)]*)\)', re.M)
FUNC = re.compile(r'^(\w+)\(([^)]*)\)\s*\{', re.M)


def wrapper_of(src, pos, arg):
    """When a diag call's format is a macro's __VA_ARGS__ or a function's parameter, return
    (name, index of the format among the wrapper's arguments); else None."""
    line_start = src.rfind('\n', 0, pos) + 1
    # a macro body may continue over lines ending in a backslash
    start = line_start
    while start > 0 and src[start - 2:start] == '\\\n':
        start = src.rfind('\n', 0, start - 2) + 1
    m = DEFINE.match(src, start)
    if m and arg == '__VA_ARGS__':
        params = [x.strip() for x in m.group(2).split(',')]
        return m.group(1), params.index('...') if '...' in params else len(params) - 1
    if not re.fullmatch(r'\w+', arg):
        return None
    funcs = [f for f in FUNC.finditer(src) if f.start() < pos]
    if not funcs:
        return None
    f = funcs[-1]
    params = [re.sub(r'.*?(\w+)\s*$', r'\1', x.strip()) for x in f.group(2).split(',')]
    return (f.group(1), params.index(arg)) if arg in params else None


def formats(paths):
    found, unchecked, wrappers = [], [], {}
    texts = {}
    for path in paths:
        texts[path] = src = strip_comments(open(path, encoding='utf-8', errors='replace').read())
        for m in CALL.finditer(src):
            line = src.count('\n', 0, m.start()) + 1
            args, _ = args_of(src, m.end())
            idx = 3 if m.group(1) == 'report' else 2
            if len(args) <= idx:
                continue  # the prototype or the macro definitions themselves
            fmt = literal(args[idx])
            if fmt is not None:
                found.append((path, line, fmt))
                continue
            w = wrapper_of(src, m.start(), args[idx].strip())
            if w:
                wrappers.setdefault(w[0], (w[1], path))
            else:
                unchecked.append('%s:%d: %s' % (path, line, args[idx].strip()))
    # Calls of wrappers (macros or functions that pass their format on) carry the literals.
    for name, (idx, wpath) in sorted(wrappers.items()):
        call = re.compile(r'\b' + re.escape(name) + r'\s*\(')
        for path, src in texts.items():
            for m in call.finditer(src):
                line = src.count('\n', 0, m.start()) + 1
                if DEFINE.match(src, src.rfind('\n', 0, m.start()) + 1):
                    continue
                args, end = args_of(src, m.end())
                if src[end + 1:].lstrip().startswith('{'):
                    continue  # the definition
                if len(args) <= idx:
                    continue
                fmt = literal(args[idx])
                if fmt is not None:
                    found.append((path, line, fmt))
                elif not re.fullmatch(r'\s*fmt\s*', args[idx]):
                    unchecked.append('%s:%d: %s' % (path, line, args[idx].strip()))
    return found, unchecked


def pattern(fmt):
    out, pos = [], 0
    for m in CONV.finditer(fmt):
        out.append(re.escape(fmt[pos:m.start()]))
        out.append('%' if m.group(0) == '%%' else '.*')
        pos = m.end()
    out.append(re.escape(fmt[pos:]))
    return re.compile(''.join(out))


def corpus(root):
    texts = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            try:
                t = open(p, encoding='utf-8', errors='replace').read()
            except OSError:
                continue
            if p.endswith(('.c', '.h')):
                t = strip_comments(t)
                # adjacent literals form one string, as the compiler joins them
                for m in re.finditer(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+', t):
                    texts.append(unescape(''.join(LIT.findall(m.group(0)))))
            else:
                texts.append(t)
    return '\n'.join(texts)


def sources():
    out = []
    for top in ('compiler', 'common', 'runtime'):
        for d, dirs, files in os.walk(top):
            dirs.sort()
            out += [os.path.join(d, f) for f in sorted(files) if f.endswith('.c')]
    # diag.c defines diag_report itself; its fmt parameter is no diagnostic.
    return [p for p in out if p != os.path.join('common', 'diag.c')]


def selftest():
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        src = os.path.join(t, 'x.c')
        open(src, 'w').write(
            '/* diag_error(d, p, "in a comment") */\n'
            'diag_error(d, p, "models.%s: needs %.2f GiB, "\n  "budget is %u%%", a, b, c);\n'
            'diag_report(d, DIAG_NOTE, pos, "plain \\"quoted\\" text");\n'
            'diag_warning(d, p, name, x);\n'
            '#define MY_ERR(st, pos, ...) \\\n  do { diag_error((st)->d, (pos), __VA_ARGS__); } while (0)\n'
            'static void\nwarn_at(struct s *x, const char *fmt, int v)\n{\n  diag_warning(x->d, x->p, fmt, v);\n}\n'
            'f() { MY_ERR(st, pos, "macro %d", 1); warn_at(x, "func %s", 2); }\n')
        found, unchecked = formats([src])
        assert [f for _, _, f in found] == ['models.%s: needs %.2f GiB, budget is %u%%',
                                             'plain "quoted" text', 'macro %d', 'func %s'], found
        assert len(unchecked) == 1 and unchecked[0].endswith(': name'), unchecked
        p = pattern(found[0][2])
        assert p.search('models.primary: needs 8.40 GiB, budget is 7%')
        assert not p.search('models.primary: needs 8.40 GiB, budget is 7')
        os.mkdir(os.path.join(t, 'tests'))
        open(os.path.join(t, 'tests', 't.c'), 'w').write('x("plain \\"quo" "ted\\" text");\n')
        assert pattern(found[1][2]).search(corpus(os.path.join(t, 'tests')))
    print('selftest passed')
    return 0


def main():
    if os.environ.get('CHECK_DIAG_SELFTEST') == '1':
        return selftest()
    found, unchecked = formats(sources())
    text = corpus('tests')
    missing = [(p, l, f) for p, l, f in found if not pattern(f).search(text)]
    for u in unchecked:
        print('unchecked (format is not a literal): %s' % u)
    for p, l, f in missing:
        print('%s:%d: no test produces: %s' % (p, l, f.replace('\n', '\\n')))
    print('%d diagnostic formats, %d covered, %d not covered, %d unchecked'
          % (len(found), len(found) - len(missing), len(missing), len(unchecked)))
    return 1 if missing else 0


sys.exit(main())
EOF
