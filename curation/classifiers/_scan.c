/* Compiled twins of the heuristic classifier's scans: `line_stats` (of `line_rules.reference_line_stats`)
 * `word_stats` (of `heuristic.reference_word_stats`) and the counts of two of `heuristic`'s patterns
 * (`arith_count`, `number_count`): the same counts in one linear pass each,
 * without the interpreter's cost per line or word.
 *
 * The Python modules stay the reference and the one home of the rules' word lists: they hand them to
 * `configure_lines()` and `configure_words()` once at import. Every check below mirrors one line of the Python, with Python's own
 * character classes (str.strip and `\s`: Py_UNICODE_ISSPACE; `\w`: Py_UNICODE_ISALNUM or '_';
 * str.isdigit: Py_UNICODE_ISDIGIT), so the counts are equal for any text; tests compare them.
 *
 * Text is untrusted: each line is scanned a bounded number of times, so the cost is linear in its length.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* runs LOOP(TYPE), a loop over the text as an array of TYPE, for the string's width: one loop per width,
 * with no width switch per character */
#define BY_WIDTH(kind, LOOP)             \
    switch (kind) {                      \
    case PyUnicode_1BYTE_KIND:           \
        LOOP(Py_UCS1)                    \
        break;                           \
    case PyUnicode_2BYTE_KIND:           \
        LOOP(Py_UCS2)                    \
        break;                           \
    default:                             \
        LOOP(Py_UCS4)                    \
    }

/* `arg` as a ready str: its width, code units and length */
static int unicode_args(PyObject *arg, int *kind, const void **data, Py_ssize_t *len) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "expected a str");
        return -1;
    }
    if (PyUnicode_READY(arg) < 0) return -1;
    *kind = PyUnicode_KIND(arg);
    *data = PyUnicode_DATA(arg);
    *len = PyUnicode_GET_LENGTH(arg);
    return 0;
}

/* `unicode_args` for a function that needs its lists handed over first (by `configure`) */
static int configured_text(int ok, const char *configure, PyObject *arg, int *kind, const void **data,
                           Py_ssize_t *len) {
    if (!ok) {
        PyErr_Format(PyExc_RuntimeError, "_scan.%s() has not been called", configure);
        return -1;
    }
    return unicode_args(arg, kind, data, len);
}

typedef struct {
    Py_UCS4 *s;
    Py_ssize_t n;
} pat_t;

typedef struct {
    pat_t *p;
    Py_ssize_t n;
} pats_t;

enum {
    CODE_PREFIXES, SHELL_WORDS, BLOCK_KEYWORDS, POD_START, COMMENT_PREFIXES, LIST_MARKERS, RELATION_CHARS,
    CODE_MARKS, N_LISTS
};
static const char *LIST_NAMES[N_LISTS] = {
    "code_prefixes", "shell_words", "block_keywords", "pod_start", "comment_prefixes", "list_markers",
    "relation_chars", "code_marks",
};
static pats_t lists[N_LISTS];
static int configured = 0;
static PyObject *KEYS[8];  /* n, code, prose, comment, brace, indented, equation, md_block */

/* one stripped line: characters [s, e) of the text, read as code points, and which characters it holds
 * (`seen`: a bit per ASCII character; `high`: one above U+007F), so a search for a pattern whose first
 * character the line lacks returns at once instead of scanning it */
typedef struct {
    const Py_UCS4 *d;
    Py_ssize_t s, e;
    uint64_t seen[2];
    int high;
} line_t;

static inline void note_chars(line_t *ln) {
    ln->seen[0] = ln->seen[1] = 0;
    ln->high = 0;
    for (Py_ssize_t i = ln->s; i < ln->e; i++) {
        Py_UCS4 c = ln->d[i];
        if (c < 128)
            ln->seen[c >> 6] |= (uint64_t)1 << (c & 63);
        else
            ln->high = 1;
    }
}

static inline int may_hold(const line_t *ln, Py_UCS4 c) {
    return c < 128 ? (int)((ln->seen[c >> 6] >> (c & 63)) & 1) : ln->high;
}

#define CH(ln, i) ((ln)->d[(i)])

static int starts_with(const line_t *ln, const pat_t *p) {
    if (ln->e - ln->s < p->n) return 0;
    for (Py_ssize_t i = 0; i < p->n; i++)
        if (CH(ln, ln->s + i) != p->s[i]) return 0;
    return 1;
}

static int starts_with_ascii(const line_t *ln, const char *p) {
    Py_ssize_t n = (Py_ssize_t)strlen(p);
    if (ln->e - ln->s < n) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (CH(ln, ln->s + i) != (Py_UCS4)(unsigned char)p[i]) return 0;
    return 1;
}

static int ends_with_ascii(const line_t *ln, const char *p) {
    Py_ssize_t n = (Py_ssize_t)strlen(p);
    if (ln->e - ln->s < n) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (CH(ln, ln->e - n + i) != (Py_UCS4)(unsigned char)p[i]) return 0;
    return 1;
}

/* the code prefixes by their first character (ASCII), so a line tries a handful instead of all */
static pats_t prefixes_by_char[128];
static pats_t prefixes_other;

static int starts_with_any(const line_t *ln, const pats_t *ps) {
    for (Py_ssize_t k = 0; k < ps->n; k++)
        if (starts_with(ln, &ps->p[k])) return 1;
    return 0;
}

/* `p in ln` for a pattern of a few characters (naive search: linear for a bounded pattern length) */
static int contains(const line_t *ln, const Py_UCS4 *p, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++)
        if (!may_hold(ln, p[j])) return 0;
    Py_ssize_t last = ln->e - n;
    for (Py_ssize_t i = ln->s; i <= last; i++) {
        if (CH(ln, i) != p[0]) continue;
        Py_ssize_t j = 1;
        while (j < n && CH(ln, i + j) == p[j]) j++;
        if (j == n) return 1;
    }
    return 0;
}

static int contains_ascii(const line_t *ln, const char *p) {
    Py_UCS4 buf[16];
    Py_ssize_t n = (Py_ssize_t)strlen(p);
    for (Py_ssize_t i = 0; i < n; i++) buf[i] = (unsigned char)p[i];
    return contains(ln, buf, n);
}

static int contains_any(const line_t *ln, const pats_t *ps) {
    for (Py_ssize_t k = 0; k < ps->n; k++)
        if (contains(ln, ps->p[k].s, ps->p[k].n)) return 1;
    return 0;
}

static int contains_char(const line_t *ln, Py_UCS4 c) {
    if (!may_hold(ln, c)) return 0;
    for (Py_ssize_t i = ln->s; i < ln->e; i++)
        if (CH(ln, i) == c) return 1;
    return 0;
}

/* `\w`: ASCII answered inline, the rest by Python's own Unicode tables */
static inline int is_word(Py_UCS4 c) {
    if (c < 128) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    return Py_UNICODE_ISALNUM(c);
}
static inline int is_ascii_letter(Py_UCS4 c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* _LATEX_CMD.search(ln): a backslash before an ASCII letter */
static int latex_cmd(const line_t *ln) {
    if (!may_hold(ln, '\\')) return 0;
    for (Py_ssize_t i = ln->s; i + 1 < ln->e; i++)
        if (CH(ln, i) == '\\' && is_ascii_letter(CH(ln, i + 1))) return 1;
    return 0;
}

/* is_assignment: _TARGET (a maximal run of \w . [ ] ' "), 2+ long with an ASCII letter or '_' before its
 * last character, then _ASSIGN_OP: spaces, an optional operator, '=' not followed by '=', then more text */
static int is_assignment(const line_t *ln) {
    Py_ssize_t i = ln->s, e = ln->e;
    while (i < e) {
        Py_UCS4 c = CH(ln, i);
        if (!(is_word(c) || c == '.' || c == '[' || c == ']' || c == '\'' || c == '"')) break;
        i++;
    }
    if (i - ln->s < 2) return 0;
    int letter = 0;
    for (Py_ssize_t k = ln->s; k < i - 1 && !letter; k++) {
        Py_UCS4 c = CH(ln, k);
        letter = is_ascii_letter(c) || c == '_';
    }
    if (!letter) return 0;
    while (i < e && Py_UNICODE_ISSPACE(CH(ln, i))) i++;
    /* '=' at q, not followed by '=', then a non-space character somewhere after it (the line is stripped,
     * so any character after q will do) */
#define ASSIGN_AT(q) ((q) < e && CH(ln, (q)) == '=' && (q) + 1 < e && CH(ln, (q) + 1) != '=')
    if (i >= e) return 0;
    Py_UCS4 c = CH(ln, i);
    if (c < 128 && c && strchr("-+*/%|&^", (int)c) && ASSIGN_AT(i + 1)) return 1;
    if (i + 1 < e) {
        Py_UCS4 d = CH(ln, i + 1);
        if (((c == '/' && d == '/') || (c == '<' && d == '<') || (c == '>' && d == '>')) && ASSIGN_AT(i + 2))
            return 1;
    }
    return ASSIGN_AT(i);
#undef ASSIGN_AT
}

/* _CALL.match(ln): a run of \w or '.' from the start, then '(' */
static int call_match(const line_t *ln) {
    Py_ssize_t i = ln->s;
    while (i < ln->e && (is_word(CH(ln, i)) || CH(ln, i) == '.')) i++;
    return i > ln->s && i < ln->e && CH(ln, i) == '(';
}

static int is_shell_word(const line_t *ln) {
    for (Py_ssize_t k = 0; k < lists[SHELL_WORDS].n; k++) {
        const pat_t *p = &lists[SHELL_WORDS].p[k];
        if (p->n == ln->e - ln->s && starts_with(ln, p)) return 1;
    }
    return 0;
}

static int is_code(const line_t *ln) {
    Py_UCS4 first = CH(ln, ln->s), last = CH(ln, ln->e - 1);
    const pats_t *prefixes = first < 128 ? &prefixes_by_char[first] : &prefixes_other;
    if (starts_with_any(ln, prefixes) || is_shell_word(ln))
        return !((first == '{' || first == '}') && latex_cmd(ln));
    if (last == ';' || last == '{' || last == '}')
        return !contains_char(ln, '\\') || last == ';';
    if (last == ':') {
        if (ends_with_ascii(ln, "):") || starts_with_any(ln, &lists[BLOCK_KEYWORDS])) return 1;
    } else if (last == 'n' || last == 'o') {
        if (ends_with_ascii(ln, "; then") || ends_with_ascii(ln, "; do")) return 1;
    } else if (last == ',' && first < 128 && first && strchr("'\"0123456789[({-", (int)first)) {
        return 1;
    }
    if (starts_with_ascii(ln, "from ") && contains_ascii(ln, " import ")) return 1;
    if (contains_ascii(ln, "  #") || contains_ascii(ln, " // ") || contains_ascii(ln, "/*")) return 1;
    if (contains_char(ln, '=') && is_assignment(ln) && !latex_cmd(ln)) return 1;
    if (last != ')') return 0;
    /* "(" in ln, no space before the first "(", and a bare call */
    for (Py_ssize_t i = ln->s; i < ln->e; i++) {
        Py_UCS4 c = CH(ln, i);
        if (c == '(') return call_match(ln);
        if (c == ' ') return 0;
    }
    return 0;
}

/* _PROSE.match(ln): an optional opening ("- " or one of "'(“*`), an ASCII letter, the rest of the first
 * word, then 5+ times: spaces, an optional “, a run of word characters; and nothing after. Every part is
 * possessive in the pattern, so one greedy scan decides. */
static inline int prose_first(Py_UCS4 c) {
    return is_ascii_letter(c) || c == 0x2019 || c == 0x201D ||
           (c < 128 && c && strchr("',.;:!?)\"`*-", (int)c));
}
static inline int prose_word(Py_UCS4 c) {
    return is_word(c) || c == 0x2019 || c == 0x201D || (c < 128 && c && strchr("',.;:!?()\"/%`*-", (int)c));
}

static int prose_match(const line_t *ln) {
    Py_ssize_t i = ln->s, e = ln->e;
    if (i + 1 < e && CH(ln, i) == '-' && CH(ln, i + 1) == ' ') {
        i += 2;
    } else if (i < e) {
        Py_UCS4 c = CH(ln, i);
        if (c == 0x201C || (c < 128 && c && strchr("\"'(*`", (int)c))) i++;
    }
    if (i >= e || !is_ascii_letter(CH(ln, i))) return 0;
    i++;
    while (i < e && prose_first(CH(ln, i))) i++;
    int words = 0;
    while (i < e) {
        if (CH(ln, i) != ' ') return 0;
        while (i < e && CH(ln, i) == ' ') i++;
        if (i < e && CH(ln, i) == 0x201C) i++;
        if (i >= e || !prose_word(CH(ln, i))) return 0;
        while (i < e && prose_word(CH(ln, i))) i++;
        words++;
    }
    return words >= 5;
}

static int is_ascii_line(const line_t *ln) { return !ln->high; }

static PyObject *line_stats(PyObject *self, PyObject *arg) {
    int kind;
    const void *raw_data;
    Py_ssize_t len;
    if (configured_text(configured, "configure_lines", arg, &kind, &raw_data, &len) < 0) return NULL;
    (void)kind;  /* read below through one code-point copy instead */
    (void)raw_data;
    /* one copy as code points: every check then reads the buffer directly, whatever the string's width */
    Py_UCS4 stack[4096];
    Py_UCS4 *data = len < 4096 ? stack : PyMem_Malloc((len + 1) * sizeof(Py_UCS4));
    if (data == NULL) return PyErr_NoMemory();
    if (PyUnicode_AsUCS4(arg, data, len + 1, 1) == NULL) {
        if (data != stack) PyMem_Free(data);
        return NULL;
    }

    long n = 0, code = 0, prose = 0, comment = 0, brace = 0, indented = 0, equation = 0, md_block = 0;
    int in_block_comment = 0, in_pod = 0, after_paragraph = 0, saw_blank = 0, in_md_block = 0;
    long block_lines = 0, block_code = 0;
    static const Py_UCS4 CUT[] = {'=', 'c', 'u', 't'}, OPEN[] = {'/', '*'}, CLOSE[] = {'*', '/'};
    const pat_t cut = {(Py_UCS4 *)CUT, 4}, open_comment = {(Py_UCS4 *)OPEN, 2};

    Py_ssize_t start = 0;
    while (start <= len) {
        Py_ssize_t end = start;
        while (end < len && data[end] != '\n') end++;
        line_t raw = {data, start, end, {0, 0}, 0};
        line_t ln = raw;
        while (ln.s < ln.e && Py_UNICODE_ISSPACE(CH(&ln, ln.s))) ln.s++;
        while (ln.e > ln.s && Py_UNICODE_ISSPACE(CH(&ln, ln.e - 1))) ln.e--;
        start = end + 1;
        if (ln.s == ln.e) {
            saw_blank = 1;
            continue;
        }
        n++;
        note_chars(&ln);
        Py_UCS4 r0 = CH(&raw, raw.s);
        int deep = 0;
        if (r0 == '\t') {
            deep = 1;
        } else if (r0 == ' ' && raw.e - raw.s >= 4) {
            deep = CH(&raw, raw.s + 1) == ' ' && CH(&raw, raw.s + 2) == ' ' && CH(&raw, raw.s + 3) == ' ';
        }
        indented += deep;
        in_md_block = deep && (in_md_block || (saw_blank && after_paragraph));
        if (!in_md_block && block_lines) {
            md_block += 2 * block_code >= block_lines ? block_lines : 0;
            block_lines = block_code = 0;
        }
        saw_blank = 0;
        Py_UCS4 first = CH(&ln, ln.s), last = CH(&ln, ln.e - 1);
        if (in_pod || (first == '=' && !deep && starts_with_any(&ln, &lists[POD_START]))) {
            in_pod = !starts_with(&ln, &cut);  /* Perl's embedded documentation, up to `=cut` */
            comment++;
            continue;
        }
        if (in_block_comment || starts_with_any(&ln, &lists[COMMENT_PREFIXES])) {
            comment++;
            if (in_block_comment || starts_with(&ln, &open_comment)) in_block_comment = !contains(&ln, CLOSE, 2);
            after_paragraph = 0;
            continue;
        }
        if ((last == ';' || last == '{' || last == '}') && (last == ';' || !contains_char(&ln, '\\'))) brace++;
        int code_line = is_code(&ln);
        if (code_line)
            code++;
        else if (prose_match(&ln))
            prose++;
        if (in_md_block) {
            block_lines++;
            block_code += code_line;
        }
        after_paragraph = !(deep || code_line || starts_with_any(&ln, &lists[LIST_MARKERS]) ||
                            (first < 128 ? (first >= '0' && first <= '9') : Py_UNICODE_ISDIGIT(first)));
        if ((contains_char(&ln, '=') || !is_ascii_line(&ln) || contains_char(&ln, '\\')) &&
            contains_any(&ln, &lists[RELATION_CHARS]) && !contains_any(&ln, &lists[CODE_MARKS]))
            equation++;
    }
    if (block_lines && 2 * block_code >= block_lines) md_block += block_lines;
    if (data != stack) PyMem_Free(data);

    long values[8] = {n, code, prose, comment, brace, indented, equation, md_block};
    PyObject *out = PyDict_New();
    if (out == NULL) return NULL;
    for (int k = 0; k < 8; k++) {
        PyObject *v = PyLong_FromLong(values[k]);
        if (v == NULL || PyDict_SetItem(out, KEYS[k], v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(v);
    }
    return out;
}

static void free_lists(void) {
    for (int c = 0; c < 128; c++) {
        PyMem_Free(prefixes_by_char[c].p);
        prefixes_by_char[c].p = NULL;
        prefixes_by_char[c].n = 0;
    }
    PyMem_Free(prefixes_other.p);
    prefixes_other.p = NULL;
    prefixes_other.n = 0;
    for (int k = 0; k < N_LISTS; k++) {
        for (Py_ssize_t j = 0; j < lists[k].n; j++) PyMem_Free(lists[k].p[j].s);
        PyMem_Free(lists[k].p);
        lists[k].p = NULL;
        lists[k].n = 0;
    }
    configured = 0;
}

/* kwargs[name] of a `configure_*(**lists)` call as a fast sequence (a new reference), or NULL with an error */
static PyObject *keyword_list(PyObject *args, PyObject *kwargs, const char *fn, const char *name) {
    if (PyTuple_GET_SIZE(args) != 0 || kwargs == NULL) {
        PyErr_Format(PyExc_TypeError, "%s() takes its lists as keyword arguments", fn);
        return NULL;
    }
    PyObject *seq = PyDict_GetItemString(kwargs, name);
    if (seq == NULL) {
        PyErr_Format(PyExc_TypeError, "%s() needs %s", fn, name);
        return NULL;
    }
    return PySequence_Fast(seq, name);
}

/* configure_lines(code_prefixes=..., shell_words=..., ...): the rules' string lists, as code points */
static PyObject *configure_lines(PyObject *self, PyObject *args, PyObject *kwargs) {
    free_lists();
    for (int k = 0; k < N_LISTS; k++) {
        PyObject *fast = keyword_list(args, kwargs, "configure_lines", LIST_NAMES[k]);
        if (fast == NULL) goto fail;
        Py_ssize_t m = PySequence_Fast_GET_SIZE(fast);
        lists[k].p = PyMem_Calloc(m ? m : 1, sizeof(pat_t));
        if (lists[k].p == NULL) {
            Py_DECREF(fast);
            PyErr_NoMemory();
            goto fail;
        }
        for (Py_ssize_t j = 0; j < m; j++) {
            PyObject *s = PySequence_Fast_GET_ITEM(fast, j);
            if (!PyUnicode_Check(s) || PyUnicode_GET_LENGTH(s) == 0 || PyUnicode_GET_LENGTH(s) > 15) {
                Py_DECREF(fast);
                PyErr_Format(PyExc_ValueError, "%s: every rule is a str of 1 to 15 characters", LIST_NAMES[k]);
                goto fail;
            }
            lists[k].p[j].s = PyUnicode_AsUCS4Copy(s);
            if (lists[k].p[j].s == NULL) {
                Py_DECREF(fast);
                goto fail;
            }
            lists[k].p[j].n = PyUnicode_GET_LENGTH(s);
            lists[k].n = j + 1;
        }
        Py_DECREF(fast);
    }
    /* bucket the code prefixes (views into lists[CODE_PREFIXES], which owns the strings) */
    const pats_t *all = &lists[CODE_PREFIXES];
    for (Py_ssize_t j = 0; j < all->n; j++) {
        Py_UCS4 c = all->p[j].s[0];
        pats_t *bucket = c < 128 ? &prefixes_by_char[c] : &prefixes_other;
        pat_t *grown = PyMem_Realloc(bucket->p, (bucket->n + 1) * sizeof(pat_t));
        if (grown == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        bucket->p = grown;
        bucket->p[bucket->n++] = all->p[j];
    }
    configured = 1;
    Py_RETURN_NONE;
fail:
    free_lists();
    return NULL;
}

/* ---- word_stats: the words of a text are its maximal runs of ASCII letters, lower-cased (what
 * `heuristic.reference_word_stats` gets by translating the UTF-8 bytes); each is looked up in the
 * vocabularies, bucketed by first letter and length. */
#define MAX_WORD 24
enum { W_MATH = 1, W_CODE = 2, W_HINT = 4, W_QUESTION = 8 };
typedef struct {
    char w[MAX_WORD + 1];
    int mask;
} word_t;
typedef struct {
    word_t *p;
    Py_ssize_t n;
} words_t;
static words_t word_buckets[26][MAX_WORD + 1];
static int words_configured = 0;

static void free_words(void) {
    for (int a = 0; a < 26; a++)
        for (int l = 0; l <= MAX_WORD; l++) {
            PyMem_Free(word_buckets[a][l].p);
            word_buckets[a][l].p = NULL;
            word_buckets[a][l].n = 0;
        }
    words_configured = 0;
}

static int add_word(PyObject *s, int mask) {
    Py_ssize_t n;
    const char *w;
    if (!PyUnicode_Check(s) || (w = PyUnicode_AsUTF8AndSize(s, &n)) == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "vocabulary words are str");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (w[i] < 'a' || w[i] > 'z') n = 0;
    if (n < 1 || n > MAX_WORD) {
        PyErr_Format(PyExc_ValueError, "vocabulary word %R: 1 to %d lower-case ASCII letters", s, MAX_WORD);
        return -1;
    }
    words_t *b = &word_buckets[w[0] - 'a'][n];
    for (Py_ssize_t k = 0; k < b->n; k++)
        if (memcmp(b->p[k].w, w, n) == 0) {
            b->p[k].mask |= mask;
            return 0;
        }
    word_t *grown = PyMem_Realloc(b->p, (b->n + 1) * sizeof(word_t));
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = grown;
    memset(&b->p[b->n], 0, sizeof(word_t));
    memcpy(b->p[b->n].w, w, n);
    b->p[b->n++].mask = mask;
    return 0;
}

/* configure_words(math=..., code=..., hint=..., question=...): the vocabularies, each an iterable of words */
static PyObject *configure_words(PyObject *self, PyObject *args, PyObject *kwargs) {
    static const char *names[4] = {"math", "code", "hint", "question"};
    static const int masks[4] = {W_MATH, W_CODE, W_HINT, W_QUESTION};
    free_words();
    for (int k = 0; k < 4; k++) {
        PyObject *fast = keyword_list(args, kwargs, "configure_words", names[k]);
        if (fast == NULL) goto fail;
        for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(fast); j++)
            if (add_word(PySequence_Fast_GET_ITEM(fast, j), masks[k]) < 0) {
                Py_DECREF(fast);
                goto fail;
            }
        Py_DECREF(fast);
    }
    words_configured = 1;
    Py_RETURN_NONE;
fail:
    free_words();
    return NULL;
}

static inline int lookup_word(const char *w, Py_ssize_t n) {
    if (n > MAX_WORD) return 0;
    const words_t *b = &word_buckets[w[0] - 'a'][n];
    for (Py_ssize_t k = 0; k < b->n; k++)
        if (memcmp(b->p[k].w, w, n) == 0) return b->p[k].mask;
    return 0;
}

/* word_stats(text) -> (words, math words, code words, a phrase-hint word seen, a question word seen) */
#define WORD_LOOP(TYPE)                                                                            \
    {                                                                                              \
        const TYPE *t = (const TYPE *)data;                                                        \
        for (Py_ssize_t i = 0; i <= len; i++) {                                                    \
            Py_UCS4 c = i < len ? t[i] : ' ';                                                      \
            if ((c | 32) >= 'a' && (c | 32) <= 'z') {                                              \
                if (n <= MAX_WORD) w[n] = (char)(c | 32);                                          \
                n++;                                                                               \
                continue;                                                                          \
            }                                                                                      \
            if (n) {                                                                               \
                words++;                                                                           \
                int mask = lookup_word(w, n);                                                      \
                math += (mask & W_MATH) != 0;                                                      \
                code += (mask & W_CODE) != 0;                                                      \
                seen |= mask;                                                                      \
                n = 0;                                                                             \
            }                                                                                      \
        }                                                                                          \
    }

static PyObject *word_stats(PyObject *self, PyObject *arg) {
    int kind;
    const void *data;
    Py_ssize_t len;
    if (configured_text(words_configured, "configure_words", arg, &kind, &data, &len) < 0) return NULL;
    long words = 0, math = 0, code = 0;
    int seen = 0;
    char w[MAX_WORD + 1];
    Py_ssize_t n = 0;  /* letters of the current word (only the first MAX_WORD + 1 kept: longer never match) */
    /* `c | 32` lower-cases an ASCII letter, and lands in 'a'-'z' for 'A'-'Z' and 'a'-'z' only */
    BY_WIDTH(kind, WORD_LOOP)
    return Py_BuildValue("(lllOO)", words, math, code, (seen & W_HINT) ? Py_True : Py_False,
                         (seen & W_QUESTION) ? Py_True : Py_False);
}

/* ---- arith_count and number_count: the matches `_ARITH.findall` and `_NUMBER.findall` would return,
 * counted in one scan. Each pattern part is followed by a class its repetition cannot match, so the
 * leftmost match is found without backtracking. */
static inline int is_decimal(Py_UCS4 c) {
    return c < 128 ? (c >= '0' && c <= '9') : Py_UNICODE_ISDECIMAL(c);
}

#define READ(i) PyUnicode_READ(kind, data, (i))

static inline int blank_char(Py_UCS4 c) { return c == ' ' || c == '\t'; }

/* _ARITH: `\d[ \t]*[+*\/×÷^=][ \t]*[-\d(a-z]` or `\d[ \t]+-[ \t]+[\d(a-z]` */
static PyObject *arith_count(PyObject *self, PyObject *arg) {
    int kind;
    const void *data;
    Py_ssize_t len;
    if (unicode_args(arg, &kind, &data, &len) < 0) return NULL;
    long count = 0;
    Py_ssize_t i = 0;
    while (i < len) {
        if (!is_decimal(READ(i))) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1, end = -1;
        while (j < len && blank_char(READ(j))) j++;
        Py_ssize_t spaced = j;  /* after the first run of blanks */
        if (j < len) {
            Py_UCS4 op = READ(j);
            if (op == '+' || op == '*' || op == '/' || op == 0xD7 || op == 0xF7 || op == '^' || op == '=') {
                Py_ssize_t k = j + 1;
                while (k < len && blank_char(READ(k))) k++;
                if (k < len) {
                    Py_UCS4 c = READ(k);
                    if (c == '-' || c == '(' || (c >= 'a' && c <= 'z') || is_decimal(c)) end = k + 1;
                }
            }
        }
        if (end < 0 && spaced > i + 1 && spaced < len && READ(spaced) == '-') {
            Py_ssize_t k = spaced + 1;
            while (k < len && blank_char(READ(k))) k++;
            if (k > spaced + 1 && k < len) {
                Py_UCS4 c = READ(k);
                if (c == '(' || (c >= 'a' && c <= 'z') || is_decimal(c)) end = k + 1;
            }
        }
        if (end < 0) {
            i++;
        } else {
            count++;
            i = end;
        }
    }
    return PyLong_FromLong(count);
}

/* number_count(text, endpos=-1): `\d+(?:[.,/]\d+)?` in text[:endpos] */
static PyObject *number_count(PyObject *self, PyObject *args) {
    PyObject *arg;
    Py_ssize_t endpos = -1;
    int kind;
    const void *data;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "O|n:number_count", &arg, &endpos)) return NULL;
    if (unicode_args(arg, &kind, &data, &len) < 0) return NULL;
    if (endpos >= 0 && endpos < len) len = endpos;
    long count = 0;
    Py_ssize_t i = 0;
    while (i < len) {
        if (!is_decimal(READ(i))) {
            i++;
            continue;
        }
        while (i < len && is_decimal(READ(i))) i++;
        if (i + 1 < len) {
            Py_UCS4 c = READ(i);
            if ((c == '.' || c == ',' || c == '/') && is_decimal(READ(i + 1))) {
                i++;
                while (i < len && is_decimal(READ(i))) i++;
            }
        }
        count++;
    }
    return PyLong_FromLong(count);
}

/* count_all(text, patterns) == sum(map(text.count, patterns)): each pattern's non-overlapping
 * occurrences, in one scan instead of one per pattern. Patterns are chained by first character, so a
 * position whose character starts none costs one table lookup. */
#define MAX_COUNT_PATTERNS 64
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t len, next;  /* `next`: where this pattern's next occurrence may start (no overlaps) */
    Py_UCS4 first, second; /* `second`: 0 for a one-character pattern */
    long hits;
    int chain;             /* another pattern with the same first character (below U+0100), or -1 */
} counted_t;

static inline void count_one(counted_t *p, int kind, const void *data, Py_ssize_t len, Py_ssize_t i, long *count) {
    if (i < p->next || i + p->len > len) return;
    Py_ssize_t j = 1;
    while (j < p->len && PyUnicode_READ(kind, data, i + j) == PyUnicode_READ(p->kind, p->data, j)) j++;
    if (j == p->len) {
        (*count)++;
        p->hits++;
        p->next = i + p->len;
    }
}

/* patterns are independent (each keeps its own `next`), so the order they are tried in does not matter */
/* the second character is checked inline, so most first-character hits cost no call */
#define COUNT_LOOP(TYPE)                                                                          \
    {                                                                                             \
        const TYPE *t = (const TYPE *)data;                                                       \
        for (Py_ssize_t i = 0; i < len; i++) {                                                    \
            Py_UCS4 c = t[i], d = i + 1 < len ? t[i + 1] : 0;                                     \
            if (c < 256) {                                                                        \
                for (int k = head[c]; k >= 0; k = pats[k].chain)                                  \
                    if (pats[k].second == 0 || pats[k].second == d)                               \
                        count_one(&pats[k], kind, data, len, i, &count);                          \
            } else {                                                                              \
                for (int h = 0; h < n_high; h++)                                                  \
                    if (pats[high[h]].first == c && (pats[high[h]].second == 0 || pats[high[h]].second == d)) \
                        count_one(&pats[high[h]], kind, data, len, i, &count);                    \
            }                                                                                     \
        }                                                                                         \
    }

#define SINGLE_LOOP(TYPE)                                                                         \
    {                                                                                             \
        const TYPE *t = (const TYPE *)data;                                                       \
        for (Py_ssize_t i = 0; i < len; i++) {                                                    \
            Py_UCS4 c = t[i];                                                                     \
            if (c < 256) {                                                                        \
                hist[c]++;                                                                        \
            } else {                                                                              \
                for (int h = 0; h < n_high; h++) pats[high[h]].hits += pats[high[h]].first == c;  \
            }                                                                                     \
        }                                                                                         \
    }

/* counts every pattern of `args` = (text, patterns) into `pats[k].hits`; the number of patterns, or -1 */
static Py_ssize_t count_patterns(PyObject *args, counted_t *pats) {
    PyObject *arg, *tuple;
    int kind;
    const void *data;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "OO!", &arg, &PyTuple_Type, &tuple)) return -1;
    if (unicode_args(arg, &kind, &data, &len) < 0) return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    if (n > MAX_COUNT_PATTERNS) {
        PyErr_Format(PyExc_ValueError, "count_all() takes at most %d patterns", MAX_COUNT_PATTERNS);
        return -1;
    }
    int head[256], high[MAX_COUNT_PATTERNS], n_high = 0;
    for (int c = 0; c < 256; c++) head[c] = -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        counted_t *p = &pats[k];
        if (unicode_args(PyTuple_GET_ITEM(tuple, k), &p->kind, &p->data, &p->len) < 0) return -1;
        if (p->len == 0) {
            PyErr_SetString(PyExc_ValueError, "count_all() patterns must not be empty");
            return -1;
        }
        p->first = PyUnicode_READ(p->kind, p->data, 0);
        p->second = p->len > 1 ? PyUnicode_READ(p->kind, p->data, 1) : 0;
        if (p->len > 1 && p->second == 0) {  /* 0 marks a one-character pattern */
            PyErr_SetString(PyExc_ValueError, "count_all() patterns must not have NUL as second character");
            return -1;
        }
        p->next = 0;
        p->hits = 0;
        p->chain = -1;
        if (p->first < 256) {
            p->chain = head[p->first];
            head[p->first] = (int)k;
        } else {
            high[n_high++] = (int)k;
        }
    }
    long count = 0;  /* the sum, kept by `count_one` */
    int single = 1;  /* every pattern one character long: a histogram of the characters does it */
    for (Py_ssize_t k = 0; k < n; k++) single &= pats[k].len == 1;
    if (single) {
        long hist[256] = {0};
        BY_WIDTH(kind, SINGLE_LOOP)
        for (Py_ssize_t k = 0; k < n; k++)
            if (pats[k].first < 256) pats[k].hits = hist[pats[k].first];
        return n;
    }
    BY_WIDTH(kind, COUNT_LOOP)
    (void)count;
    return n;
}

static PyObject *count_all(PyObject *self, PyObject *args) {
    counted_t pats[MAX_COUNT_PATTERNS];
    Py_ssize_t n = count_patterns(args, pats);
    if (n < 0) return NULL;
    long total = 0;
    for (Py_ssize_t k = 0; k < n; k++) total += pats[k].hits;
    return PyLong_FromLong(total);
}

/* count_each(text, patterns) == tuple(map(text.count, patterns)), in the same one scan */
static PyObject *count_each(PyObject *self, PyObject *args) {
    counted_t pats[MAX_COUNT_PATTERNS];
    Py_ssize_t n = count_patterns(args, pats);
    if (n < 0) return NULL;
    PyObject *out = PyTuple_New(n);
    if (out == NULL) return NULL;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *v = PyLong_FromLong(pats[k].hits);
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, k, v);
    }
    return out;
}

/* fences(text) -> (spans, fenced lines): the (start, end) spans `_FENCE.finditer` gives, and the lines of
 * them that `_NONEMPTY` counts. A fence opens at a line start (after spaces or tabs) with ``` or ~~~ on a
 * line that ends in a newline, and closes at the first later line holding only the same three characters
 * between spaces or tabs (the span ends before that line's newline), or runs to the end of the text. */
static PyObject *fences(PyObject *self, PyObject *arg) {
    int kind;
    const void *data;
    Py_ssize_t len;
    if (unicode_args(arg, &kind, &data, &len) < 0) return NULL;
    PyObject *spans = PyList_New(0);
    if (spans == NULL) return NULL;
    long fenced = 0;
    Py_ssize_t line = 0;  /* a line start */
    while (line < len) {
        Py_ssize_t i = line;
        while (i < len && blank_char(READ(i))) i++;
        Py_UCS4 f = i + 2 < len ? READ(i) : 0;
        Py_ssize_t eol = line;
        while (eol < len && READ(eol) != '\n') eol++;
        if (!((f == '`' || f == '~') && READ(i + 1) == f && READ(i + 2) == f) || eol == len) {
            line = eol + 1;
            continue;
        }
        /* opened: find the closing line */
        Py_ssize_t end = len, m = eol + 1;
        while (m < len) {
            Py_ssize_t j = m;
            while (j < len && blank_char(READ(j))) j++;
            Py_ssize_t close_end = -1;
            if (j + 2 < len && READ(j) == f && READ(j + 1) == f && READ(j + 2) == f) {
                Py_ssize_t k = j + 3;
                while (k < len && blank_char(READ(k))) k++;
                if (k == len || READ(k) == '\n') close_end = k;
            }
            if (close_end >= 0) {
                end = close_end;
                break;
            }
            while (m < len && READ(m) != '\n') m++;
            m++;
        }
        /* `_NONEMPTY` over the span: lines whose first character after spaces and tabs is not a space */
        for (Py_ssize_t a = line; a < end;) {
            Py_ssize_t k = a;
            while (k < end && blank_char(READ(k))) k++;
            if (k < end && !Py_UNICODE_ISSPACE(READ(k))) fenced++;
            while (k < end && READ(k) != '\n') k++;
            a = k + 1;
        }
        PyObject *span = Py_BuildValue("(nn)", line, end);
        if (span == NULL || PyList_Append(spans, span) < 0) {
            Py_XDECREF(span);
            Py_DECREF(spans);
            return NULL;
        }
        Py_DECREF(span);
        line = end + 1;
    }
    return Py_BuildValue("(Nl)", spans, fenced);
}

/* math_chars(text, ascii_math, other_math) -> (math characters, non-space characters): the counts of
 * `scaffold.reference_math_chars`, where a math character is one of `ascii_math` (ASCII) or `other_math` */
#define MATH_LOOP(TYPE)                                                                   \
    {                                                                                     \
        const TYPE *t = (const TYPE *)data;                                               \
        for (Py_ssize_t i = 0; i < len; i++) {                                            \
            Py_UCS4 c = t[i];                                                             \
            if (c < 128) {                                                                \
                n_math += ascii[c];                                                       \
                n_chars += !Py_UNICODE_ISSPACE(c);                                        \
                continue;                                                                 \
            }                                                                             \
            n_chars += !Py_UNICODE_ISSPACE(c);                                            \
            for (Py_ssize_t k = 0; k < n_other; k++)                                      \
                if (PyUnicode_READ(okind, odata, k) == c) {                               \
                    n_math++;                                                             \
                    break;                                                                \
                }                                                                         \
        }                                                                                 \
    }

static PyObject *math_chars(PyObject *self, PyObject *args) {
    PyObject *arg, *ascii_math, *other_math;
    int kind, akind, okind;
    const void *data, *adata, *odata;
    Py_ssize_t len, n_ascii, n_other;
    if (!PyArg_ParseTuple(args, "OOO:math_chars", &arg, &ascii_math, &other_math)) return NULL;
    if (unicode_args(arg, &kind, &data, &len) < 0 || unicode_args(ascii_math, &akind, &adata, &n_ascii) < 0 ||
        unicode_args(other_math, &okind, &odata, &n_other) < 0)
        return NULL;
    unsigned char ascii[128] = {0};
    for (Py_ssize_t k = 0; k < n_ascii; k++) {
        Py_UCS4 c = PyUnicode_READ(akind, adata, k);
        if (c >= 128) {
            PyErr_SetString(PyExc_ValueError, "math_chars(): ascii_math holds only ASCII characters");
            return NULL;
        }
        ascii[c] = 1;
    }
    for (Py_ssize_t k = 0; k < n_other; k++)
        if (PyUnicode_READ(okind, odata, k) < 128) {
            PyErr_SetString(PyExc_ValueError, "math_chars(): other_math holds only non-ASCII characters");
            return NULL;
        }
    long n_math = 0, n_chars = 0;
    BY_WIDTH(kind, MATH_LOOP)
    return Py_BuildValue("(ll)", n_math, n_chars);
}

#undef READ

static PyMethodDef methods[] = {
    {"line_stats", line_stats, METH_O, "line_stats(text) -> dict: the counts of line_rules.line_stats"},
    {"configure_lines", (PyCFunction)(void (*)(void))configure_lines, METH_VARARGS | METH_KEYWORDS,
     "configure_lines(**rule_lists): the string lists of line_rules.py"},
    {"word_stats", word_stats, METH_O,
     "word_stats(text) -> (words, math words, code words, hint word seen, question word seen)"},
    {"arith_count", arith_count, METH_O, "arith_count(text) -> len(heuristic._ARITH.findall(text))"},
    {"number_count", number_count, METH_VARARGS,
     "number_count(text, endpos=-1) -> len(heuristic._NUMBER.findall(text, 0, endpos))"},
    {"fences", fences, METH_O, "fences(text) -> (the spans of heuristic._FENCE, their non-empty lines)"},
    {"math_chars", math_chars, METH_VARARGS,
     "math_chars(text, ascii_math, other_math) -> (math characters, non-space characters)"},
    {"count_all", count_all, METH_VARARGS, "count_all(text, patterns) -> sum(map(text.count, patterns))"},
    {"count_each", count_each, METH_VARARGS, "count_each(text, patterns) -> tuple(map(text.count, patterns))"},
    {"configure_words", (PyCFunction)(void (*)(void))configure_words, METH_VARARGS | METH_KEYWORDS,
     "configure_words(math=, code=, hint=, question=): the vocabularies of heuristic.py"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scan", "Compiled twins of the heuristic classifier's line and word scans.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__scan(void) {
    static const char *names[8] = {"n", "code", "prose", "comment", "brace", "indented", "equation", "md_block"};
    for (int k = 0; k < 8; k++) {
        KEYS[k] = PyUnicode_InternFromString(names[k]);
        if (KEYS[k] == NULL) return NULL;
    }
    return PyModule_Create(&module);
}
