/* The compiled twin of the line patterns in `scaffold.py`: `scaffold_lines(text)` returns
 * (n_lines, step_markers, derivation_depth, equation_chain, indented), the numbers `text_features` gets
 * from `_NONEMPTY`, `_STEP_LINES`, `_derivation_lines`, `_longest_chain` and `_INDENTED`, in one pass.
 *
 * Every pattern there starts at a line's "\n" and never crosses the next one, so each counts lines, and a
 * line's verdict depends on that line alone; below, each pattern is unrolled into the one parse that can
 * succeed (the others fail on the next character, noted where it matters). Character classes are `re`'s
 * own for str patterns: `\s` Py_UNICODE_ISSPACE, `\d` Py_UNICODE_ISDECIMAL, `\w` Py_UNICODE_ISALNUM or
 * '_'. The step and derivation patterns ignore case; `fold` is how `re` folds text against their ASCII
 * letters (found by brute force over all code points; tests check it), so non-ASCII text is handled too.
 *
 * Text is untrusted: each line is scanned a bounded number of times, so the cost is linear in its length.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* one line of the text: characters [s, e); reads outside it see the "\n" that bounds every line */
typedef struct {
    int kind;
    const void *d;
    Py_ssize_t s, e;
} line_t;

static inline Py_UCS4 at(const line_t *ln, Py_ssize_t i) {
    return (i < ln->s || i >= ln->e) ? '\n' : PyUnicode_READ(ln->kind, ln->d, i);
}

/* `[^\S\n]`: the line end reads as "\n", so this is false there */
static inline int is_ws(Py_UCS4 c) {
    return c != '\n' && Py_UNICODE_ISSPACE(c);
}

static inline int is_digit(Py_UCS4 c) {
    return c < 128 ? (c >= '0' && c <= '9') : Py_UNICODE_ISDECIMAL(c);
}

static inline int is_word(Py_UCS4 c) {
    if (c < 128)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return Py_UNICODE_ISALNUM(c);
}

/* what an IGNORECASE pattern letter sees: ASCII lower case, and the four non-ASCII characters that `re`
 * matches against ASCII letters (İ and ı ~ i, ſ ~ s, Kelvin sign ~ k); any other non-ASCII character
 * stays itself and so matches no ASCII literal. For ASCII text this is `str.lower()`. */
static inline Py_UCS4 fold(Py_UCS4 c) {
    if (c < 128)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    switch (c) {
    case 0x130: case 0x131: return 'i';
    case 0x17F: return 's';
    case 0x212A: return 'k';
    default: return c;
    }
}

/* end of the (case-folded) word `w` at `i`, or -1 */
static Py_ssize_t word_at(const line_t *ln, Py_ssize_t i, const char *w) {
    for (; *w; w++, i++)
        if (fold(at(ln, i)) != (Py_UCS4)(unsigned char)*w) return -1;
    return i;
}

/* the same, case-sensitive (the chain pattern does not ignore case) */
static Py_ssize_t exact_at(const line_t *ln, Py_ssize_t i, const char *w) {
    for (; *w; w++, i++)
        if (at(ln, i) != (Py_UCS4)(unsigned char)*w) return -1;
    return i;
}

/* `w\b`: a word ends at `i` */
static inline int word_end(const line_t *ln, Py_ssize_t i, const char *w) {
    Py_ssize_t e = word_at(ln, i, w);
    return e >= 0 && !is_word(at(ln, e));
}

static inline Py_ssize_t skip_ws(const line_t *ln, Py_ssize_t i) {
    while (is_ws(at(ln, i))) i++;
    return i;
}

/* `[^\S\n]+\S` at `i`: blanks, then anything but the line end */
static inline int blanks_then_text(const line_t *ln, Py_ssize_t i) {
    return is_ws(at(ln, i)) && skip_ws(ln, i) < ln->e;
}

/* `[a-z0-9]` ignoring case */
static inline int is_az09(Py_UCS4 c) {
    c = fold(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* `first(?:ly)?\b` and kin */
static int ordinal_at(const line_t *ln, Py_ssize_t i, const char *w) {
    Py_ssize_t e = word_at(ln, i, w);
    if (e < 0) return 0;
    if (!is_word(at(ln, e))) return 1;
    return fold(at(ln, e)) == 'l' && fold(at(ln, e + 1)) == 'y' && !is_word(at(ln, e + 2));
}

/* the alternatives of `_STEP` at `i` (after the optional "- " and "**"); the words are tried only under
 * their first letter, as no other can match */
static int step_alternative(const line_t *ln, Py_ssize_t i) {
    Py_UCS4 c = at(ln, i);
    Py_ssize_t e;
    switch (fold(c)) {
    case 's':
        if ((e = word_at(ln, i, "step")) >= 0 || (e = word_at(ln, i, "stage")) >= 0)
            return is_digit(at(ln, skip_ws(ln, e)));
        return ordinal_at(ln, i, "second");
    case 'p':
        if ((e = word_at(ln, i, "part")) < 0) return 0;
        e = skip_ws(ln, e);
        if (at(ln, e) == '(') e++;  /* `\(?`: taken when present, `[a-z0-9]` cannot match it */
        if (!is_az09(at(ln, e))) return 0;
        e++;
        if (at(ln, e) == ')') e++;
        c = at(ln, e);
        return c == ':' || c == '.';
    case 'f':
        if (ordinal_at(ln, i, "first") || word_end(ln, i, "finally")) return 1;
        break;
    case 't':
        return ordinal_at(ln, i, "third") || word_end(ln, i, "then");
    case 'n':
        return word_end(ln, i, "next");
    case 'a':
        if (word_end(ln, i, "after that")) return 1;
        break;
    case 'l':
        return word_end(ln, i, "lastly");
    }
    if (is_digit(c)) {  /* `\d{1,2}[.)]`: a second digit is taken when present, `[.)]` cannot match it */
        e = i + 1;
        if (is_digit(at(ln, e))) e++;
        c = at(ln, e);
        return (c == '.' || c == ')') && blanks_then_text(ln, e + 1);
    }
    if (c == '(')
        return is_az09(at(ln, i + 1)) && at(ln, i + 2) == ')' && blanks_then_text(ln, i + 3);
    c = fold(c);
    if (c >= 'a' && c <= 'h') {
        Py_UCS4 d = at(ln, i + 1);
        return (d == '.' || d == ')') && blanks_then_text(ln, i + 2);
    }
    return 0;
}

/* `_STEP` on a line whose first non-blank character is at `p` */
static int step_line(const line_t *ln, Py_ssize_t p) {
    Py_UCS4 c = fold(at(ln, p));
    /* the lookahead `[0-9(\[\-*a-hA-HsSfFnNtTlLpP]`, ignoring case */
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'h') || c == '(' || c == '[' || c == '-' || c == '*'
          || c == 's' || c == 'n' || c == 't' || c == 'l' || c == 'p'))
        return 0;
    /* `(?:[-*][^\S\n]+)?(?:\*\*)?`: both ways to read the prefix; the blanks are taken whole, as nothing
     * after them can start with a blank */
    Py_ssize_t i = p;
    if (at(ln, i) == '*' && at(ln, i + 1) == '*') i += 2;
    if (step_alternative(ln, i)) return 1;
    if ((at(ln, p) == '-' || at(ln, p) == '*') && is_ws(at(ln, p + 1))) {
        i = skip_ws(ln, p + 1);
        if (at(ln, i) == '*' && at(ln, i + 1) == '*') i += 2;
        return step_alternative(ln, i);
    }
    return 0;
}

/* `_DERIVATION` on a line whose first non-blank character is at `p` */
static int derivation_line(const line_t *ln, Py_ssize_t p) {
    if (at(ln, p) == '&') p = skip_ws(ln, p + 1);
    Py_UCS4 c = at(ln, p);
    switch (fold(c)) {
    case '=': case 0x21D2: case 0x2192:  /* "=" also covers "=>" */
        return 1;
    case '\\':
        return word_at(ln, p, "\\implies") >= 0 || word_at(ln, p, "\\rightarrow") >= 0;
    case 'w':
        return word_at(ln, p, "which gives") >= 0;
    case 's':
        return word_end(ln, p, "so");
    case 't':
        return word_end(ln, p, "then") || word_end(ln, p, "thus");
    case 'h':
        return word_end(ln, p, "hence");
    default:
        return 0;
    }
}

/* `_REL` at a "\\" at `i`, case-sensitive */
static int backslash_relation(const line_t *ln, Py_ssize_t i) {
    static const char *words[] = {"le", "ge", "leq", "geq", "approx", "Rightarrow", "implies"};
    for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
        Py_ssize_t e = exact_at(ln, i + 1, words[k]);
        if (e >= 0 && !is_word(at(ln, e))) return 1;
    }
    return 0;
}

/* the characters below 256 where the scan of a line has work to do: its end, and what starts a relation
 * or counts as "=" */
static const unsigned char STOP[256] = {['\n'] = 1, ['='] = 1, ['<'] = 1, ['>'] = 1, ['\\'] = 1};

static inline int stops(int kind, Py_UCS4 c) {
    if (kind == PyUnicode_1BYTE_KIND) return STOP[c];
    return c < 256 ? STOP[c] : c == 0x2264 || c == 0x2265 || c == 0x2248;
}

/* `u` in every lane of a 64-bit word, a lane being one unit of a 1- or 2-byte string */
static inline uint64_t lanes(int kind, uint64_t u) {
    return u * (kind == PyUnicode_1BYTE_KIND ? 0x0101010101010101ULL : 0x0001000100010001ULL);
}

/* whether some lane of `v` equals that lane of `x`: the exact "has a zero lane" test, on `v ^ x` */
static inline int has_lane(int kind, uint64_t v, uint64_t x) {
    v ^= x;
    return ((v - lanes(kind, 1)) & ~v & (lanes(kind, 1) << (8 * kind - 1))) != 0;
}

/* whether the 8 bytes from unit `i` of a 1- or 2-byte string may hold a stop: never 0 when they do ("?"
 * shares the masked test of "<", "=" and ">"; the caller checks each unit of such a word) */
static inline int word_may_stop(int kind, const void *d, Py_ssize_t i) {
    uint64_t v;
    memcpy(&v, (const char *)d + i * kind, 8);
    uint64_t not_low2 = lanes(kind, kind == PyUnicode_1BYTE_KIND ? 0xFC : 0xFFFC);
    int hit = has_lane(kind, v, lanes(kind, '\n')) | has_lane(kind, v, lanes(kind, '\\'))
              | has_lane(kind, v & not_low2, lanes(kind, '<'));
    if (kind == PyUnicode_2BYTE_KIND)  /* ≤ and ≥ (one test, as 0x2264 and 0x2265 differ in bit 0), ≈ */
        hit |= has_lane(kind, v & lanes(kind, 0xFFFE), lanes(kind, 0x2264))
               | has_lane(kind, v, lanes(kind, 0x2248));
    return hit;
}

/* Reads the line from `ln->s` up to its "\n" or the text's end, which it returns; sets `rel` when the line
 * holds a relation (`_REL_LINE`) and counts in `singles` `ln.count("=") - 2 * ln.count("==")` (`str.count`
 * does not overlap). 1- and 2-byte text is skipped 8 bytes at a time up to the units that may matter. */
static inline Py_ALWAYS_INLINE Py_ssize_t scan_line(int kind, const line_t *ln, Py_ssize_t n, int *rel,
                                                    Py_ssize_t *singles) {
    const void *d = ln->d;
    const Py_ssize_t w = 8 / kind;
    Py_ssize_t i = ln->s;
    for (;;) {
        Py_ssize_t end = n;
        if (kind != PyUnicode_4BYTE_KIND) {
            while (i + w <= n && !word_may_stop(kind, d, i)) i += w;
            end = Py_MIN(i + w, n);
        }
        for (; i < end; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, d, i);
            if (!stops(kind, c)) continue;
            if (c == '\n') return i;
            if (c == '=') {
                /* `_REL` at "=": `=(?<![=!<>]=)(?!=)` or `=>` */
                Py_UCS4 prev = at(ln, i - 1), next = at(ln, i + 1);
                if (next == '=') {  /* "==": neither "=" counts, and only the second can start "=>" */
                    *rel |= at(ln, i + 2) == '>';
                    i++;
                } else {
                    ++*singles;
                    *rel |= next == '>' || (prev != '=' && prev != '!' && prev != '<' && prev != '>');
                }
            } else if (c == '\\') {
                *rel = *rel || backslash_relation(ln, i);
            } else {  /* < > ≤ ≥ ≈ */
                *rel = 1;
            }
        }
        if (i >= n) return n;
    }
}

typedef struct {
    Py_ssize_t n_lines, steps, derivation, chain, run, indented;
} counts_t;

/* One pass over the text: each line is read once for its end, relations and "=" count, then only its
 * first characters for the rest. Always inlined with a constant `kind`, so each string width gets its own
 * loop without a width switch per character. */
static inline Py_ALWAYS_INLINE void count_lines(int kind, const void *d, Py_ssize_t n, counts_t *k) {
    line_t ln = {kind, d, 0, n};
    for (Py_ssize_t s = 0; s <= n;) {
        /* the line end is not known yet: reads past it see the "\n" in the text, or the text's end */
        ln.s = s;
        ln.e = n;
        int rel = 0;
        Py_ssize_t singles = 0;
        Py_ssize_t e = scan_line(kind, &ln, n, &rel, &singles);
        ln.e = e;
        s = e + 1;
        Py_ssize_t p = skip_ws(&ln, ln.s);
        if (p == ln.e)  /* blank: counts nowhere, and neither breaks nor extends an equation chain */
            continue;
        k->n_lines++;
        if (at(&ln, ln.s) == '\t' || (at(&ln, ln.s) == ' ' && at(&ln, ln.s + 1) == ' ')) k->indented++;
        k->steps += step_line(&ln, p);
        k->derivation += singles >= 2 || derivation_line(&ln, p);
        if (rel) {
            if (++k->run > k->chain) k->chain = k->run;
        } else {
            k->run = 0;
        }
    }
}

static PyObject *scaffold_lines(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "scaffold_lines() expects a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    const void *d = PyUnicode_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    counts_t k = {0};
    switch (PyUnicode_KIND(arg)) {
    case PyUnicode_1BYTE_KIND: count_lines(PyUnicode_1BYTE_KIND, d, n, &k); break;
    case PyUnicode_2BYTE_KIND: count_lines(PyUnicode_2BYTE_KIND, d, n, &k); break;
    default: count_lines(PyUnicode_4BYTE_KIND, d, n, &k); break;
    }
    return Py_BuildValue("(nnnnn)", k.n_lines, k.steps, k.derivation, k.chain, k.indented);
}

static PyMethodDef methods[] = {
    {"scaffold_lines", scaffold_lines, METH_O,
     "scaffold_lines(text) -> (n_lines, step_markers, derivation_depth, equation_chain, indented)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_scaffold_lines",
    .m_doc = "Compiled twin of the line patterns in scaffold.py.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__scaffold_lines(void) {
    return PyModule_Create(&module);
}
