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

/* the alternatives of `_STEP` at `i` (after the optional "- " and "**") */
static int step_alternative(const line_t *ln, Py_ssize_t i) {
    Py_UCS4 c = at(ln, i);
    Py_ssize_t e;
    if ((e = word_at(ln, i, "step")) >= 0 || (e = word_at(ln, i, "stage")) >= 0)
        return is_digit(at(ln, skip_ws(ln, e)));
    if ((e = word_at(ln, i, "part")) >= 0) {
        e = skip_ws(ln, e);
        if (at(ln, e) == '(') e++;  /* `\(?`: taken when present, `[a-z0-9]` cannot match it */
        if (!is_az09(at(ln, e))) return 0;
        e++;
        if (at(ln, e) == ')') e++;
        c = at(ln, e);
        return c == ':' || c == '.';
    }
    if (ordinal_at(ln, i, "first") || ordinal_at(ln, i, "second") || ordinal_at(ln, i, "third")
        || word_end(ln, i, "next") || word_end(ln, i, "then") || word_end(ln, i, "after that")
        || word_end(ln, i, "finally") || word_end(ln, i, "lastly"))
        return 1;
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
    if (c == '=' || c == 0x21D2 || c == 0x2192)  /* "=" also covers "=>" */
        return 1;
    return word_at(ln, p, "\\implies") >= 0 || word_at(ln, p, "\\rightarrow") >= 0
           || word_at(ln, p, "which gives") >= 0 || word_end(ln, p, "so") || word_end(ln, p, "then")
           || word_end(ln, p, "hence") || word_end(ln, p, "thus");
}

/* `ln.count("=") - 2 * ln.count("==") >= 2` (`str.count` does not overlap) */
static int two_equals(const line_t *ln) {
    Py_ssize_t eq = 0, pairs = 0;
    for (Py_ssize_t i = ln->s; i < ln->e; i++) {
        if (at(ln, i) != '=') continue;
        eq++;
        if (at(ln, i + 1) == '=') {
            eq++;
            pairs++;
            i++;
        }
    }
    return eq - 2 * pairs >= 2;
}

/* `_REL` at `i`, case-sensitive */
static int relation_at(const line_t *ln, Py_ssize_t i) {
    static const char *words[] = {"le", "ge", "leq", "geq", "approx", "Rightarrow", "implies"};
    Py_UCS4 c = at(ln, i), prev, next;
    switch (c) {
    case '=':  /* `=(?<![=!<>]=)(?!=)` or `=>` */
        prev = at(ln, i - 1);
        next = at(ln, i + 1);
        return next == '>' || (next != '=' && prev != '=' && prev != '!' && prev != '<' && prev != '>');
    case '<': case '>': case 0x2264: case 0x2265: case 0x2248:
        return 1;
    case '\\':
        for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
            Py_ssize_t e = exact_at(ln, i + 1, words[k]);
            if (e >= 0 && !is_word(at(ln, e))) return 1;
        }
        return 0;
    default:
        return 0;
    }
}

/* `_REL_LINE`: the line holds a relation somewhere */
static int relation_line(const line_t *ln) {
    for (Py_ssize_t i = ln->s; i < ln->e; i++)
        if (relation_at(ln, i)) return 1;
    return 0;
}

static PyObject *scaffold_lines(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "scaffold_lines() expects a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0) return NULL;
    line_t ln = {PyUnicode_KIND(arg), PyUnicode_DATA(arg), 0, 0};
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    Py_ssize_t n_lines = 0, steps = 0, derivation = 0, chain = 0, run = 0, indented = 0;
    for (Py_ssize_t s = 0; s <= n;) {
        Py_ssize_t e = s;
        while (e < n && PyUnicode_READ(ln.kind, ln.d, e) != '\n') e++;
        ln.s = s;
        ln.e = e;
        s = e + 1;
        Py_ssize_t p = skip_ws(&ln, ln.s);
        if (p == ln.e)  /* blank: counts nowhere, and neither breaks nor extends an equation chain */
            continue;
        n_lines++;
        if (at(&ln, ln.s) == '\t' || (at(&ln, ln.s) == ' ' && at(&ln, ln.s + 1) == ' ')) indented++;
        steps += step_line(&ln, p);
        derivation += derivation_line(&ln, p) || two_equals(&ln);
        if (relation_line(&ln)) {
            if (++run > chain) chain = run;
        } else {
            run = 0;
        }
    }
    return Py_BuildValue("(nnnnn)", n_lines, steps, derivation, chain, indented);
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
