"""`pure_code` generators: Python, JavaScript, C, shell, Go and Rust modules with random content.

Each generator takes `(rng, scaffold)`; the scaffold variant adds step comments and deeper nesting.
"""

from __future__ import annotations

import random

from curation.demo.templates.vocab import IDENT_NOUNS, LIBRARIES, ident, pick


def _py_function(rng: random.Random, scaffold: bool) -> str:
    name, arg, other = ident(rng), pick(rng, IDENT_NOUNS), pick(rng, IDENT_NOUNS)
    if arg == other:
        other += "s"
    lines = [f"def {name}({arg}, {other}=None):"]
    if rng.random() < 0.6:
        lines.append(f'    """{pick(rng, ("Return", "Compute", "Build", "Collect"))} the {arg} {other}."""')
    if scaffold:
        lines += [f"    # Step 1: check the {arg}", f"    if {arg} is None:",
                  f"        raise ValueError('{arg} is required')",
                  "    # Step 2: accumulate", "    total = 0", f"    for i, x in enumerate({arg}):",
                  "        if i % 2 == 0:", "            total += x", "        else:",
                  f"            total -= x * {rng.randint(2, 9)}", "    # Step 3: combine",
                  f"    return total if {other} is None else total + len({other})"]
    else:
        body = rng.choice([
            [f"    out = [x for x in {arg} if x]", f"    return out[:{rng.randint(2, 50)}]"],
            [f"    {other} = {other} or {{}}", f"    {other}[{arg!r}] = len({arg})", f"    return {other}"],
            [f"    with open({arg}) as fh:", "        data = fh.read()", "    return data.splitlines()"],
            [f"    result = sum({arg}) / max(1, len({arg}))", f"    return round(result, {rng.randint(1, 4)})"],
            [f"    for key, value in {arg}.items():", f"        print(key, value, sep='{pick(rng, ':=,')}')"],
        ])
        lines += body
    return "\n".join(lines)


def _py_class(rng: random.Random, scaffold: bool) -> str:
    cls, field = ident(rng, "pascal"), pick(rng, IDENT_NOUNS)
    lines = [f"class {cls}:", f"    def __init__(self, {field}, limit={rng.randint(8, 512)}):",
             f"        self.{field} = {field}", "        self.limit = limit", "        self._items = []", "",
             "    def add(self, item):", "        if len(self._items) >= self.limit:",
             "            self._items.pop(0)", "        self._items.append(item)", "",
             "    def __len__(self):", "        return len(self._items)"]
    if scaffold:
        lines += ["", "    def drain(self):", "        while self._items:", "            item = self._items.pop()",
                  "            if item is not None:", "                yield item"]
    return "\n".join(lines)


def python_module(rng: random.Random, scaffold: bool) -> str:
    with_main = rng.random() < 0.4
    imports = set(rng.sample(["os", "json", "re", "math", "itertools", "collections", "pathlib", "logging",
                              "dataclasses", "functools", "typing"], rng.randint(1, 4)))
    parts = ["\n".join(f"import {m}" for m in sorted(imports | ({"sys"} if with_main else set())))]
    if rng.random() < 0.5:
        parts.insert(0, f'"""{pick(rng, ("Helpers", "Utilities", "Routines"))} for {pick(rng, IDENT_NOUNS)} '
                        f'{pick(rng, ("processing", "storage", "parsing", "caching"))}."""')
    parts.append(f"{pick(rng, IDENT_NOUNS).upper()}_LIMIT = {rng.randint(1, 4096)}")
    for _ in range(rng.randint(1, 4)):
        parts.append(_py_class(rng, scaffold) if rng.random() < 0.3 else _py_function(rng, scaffold))
    if with_main:
        parts.append(f'if __name__ == "__main__":\n    {ident(rng)}(sys.argv[1:])')
    return "\n\n\n".join(parts) + "\n"


def javascript_module(rng: random.Random, scaffold: bool) -> str:
    lib, fn, noun = pick(rng, LIBRARIES), ident(rng, "camel"), pick(rng, IDENT_NOUNS)
    lines = [f"import {lib.capitalize()} from '{lib}';", "", f"const MAX_{noun.upper()} = {rng.randint(2, 999)};", ""]
    lines += [f"export function {fn}({noun}s, options = {{}}) {{",
              "  const seen = new Set();", "  const out = [];"]
    if scaffold:
        lines += ["  // Step 1: filter duplicates", f"  for (const {noun} of {noun}s) {{",
                  f"    if (seen.has({noun}.id)) {{", "      continue;", "    }",
                  f"    seen.add({noun}.id);", "    // Step 2: keep valid entries",
                  f"    if ({noun}.score > (options.min ?? {rng.randint(0, 9)})) {{",
                  f"      out.push({noun});", "    }", "  }", "  // Step 3: sort by score",
                  "  out.sort((a, b) => b.score - a.score);"]
    else:
        lines += [f"  {noun}s.forEach(({noun}) => {{", f"    if (!seen.has({noun}.id)) out.push({noun});",
                  f"    seen.add({noun}.id);", "  });"]
    lines += [f"  return out.slice(0, MAX_{noun.upper()});", "}", ""]
    if rng.random() < 0.5:
        other = ident(rng, "camel")
        lines += [f"export async function {other}(url) {{", "  const res = await fetch(url);",
                  "  if (!res.ok) throw new Error(`HTTP ${res.status}`);", "  return res.json();", "}"]
    return "\n".join(lines) + "\n"


def c_module(rng: random.Random, scaffold: bool) -> str:
    noun, fn = pick(rng, IDENT_NOUNS), ident(rng)
    lines = ["#include <stdio.h>", "#include <stdlib.h>", "#include <string.h>", "",
             f"#define MAX_{noun.upper()} {rng.randint(16, 1024)}", "",
             "typedef struct {", "    int id;", "    double weight;", f"    char name[{rng.randint(8, 64)}];",
             f"}} {noun}_t;", "", f"static int {fn}(const {noun}_t *items, size_t n) {{", "    int total = 0;"]
    if scaffold:
        lines += ["    /* step 1: scan */", "    for (size_t i = 0; i < n; i++) {", "        if (items[i].id < 0) {",
                  "            continue;", "        }", "        /* step 2: weigh */",
                  "        if (items[i].weight > 0.5) {", "            total += items[i].id;", "        }", "    }"]
    else:
        lines += ["    for (size_t i = 0; i < n; i++)", "        total += items[i].id;"]
    lines += ["    return total;", "}", "", "int main(int argc, char **argv) {",
              f"    {noun}_t *buf = calloc(MAX_{noun.upper()}, sizeof({noun}_t));",
              "    if (!buf) return 1;", f"    printf(\"%d\\n\", {fn}(buf, MAX_{noun.upper()}));",
              "    free(buf);", "    return 0;", "}"]
    return "\n".join(lines) + "\n"


def shell_script(rng: random.Random, scaffold: bool) -> str:
    noun = pick(rng, IDENT_NOUNS)
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", "", f'{noun.upper()}_DIR="${{1:-/tmp/{noun}s}}"',
             f"LIMIT={rng.randint(1, 100)}", ""]
    if scaffold:
        lines += ["# 1. prepare", f'mkdir -p "${noun.upper()}_DIR"', "# 2. process every file",
                  f'for f in "${noun.upper()}_DIR"/*.{pick(rng, ("log", "txt", "csv", "json"))}; do',
                  '    if [ -s "$f" ]; then', '        wc -l "$f"', "    else",
                  '        echo "empty: $f" >&2', "    fi", "done", "# 3. report"]
    lines += [f'count=$(find "${noun.upper()}_DIR" -type f | wc -l)', 'if [ "$count" -gt "$LIMIT" ]; then',
              f'    echo "too many {noun}s: $count"', "    exit 1", "fi", 'echo "ok: $count"']
    return "\n".join(lines) + "\n"


def go_module(rng: random.Random, scaffold: bool) -> str:
    noun, fn = pick(rng, IDENT_NOUNS), ident(rng, "pascal")
    lines = ["package main", "", "import (", '\t"fmt"', '\t"strings"', ")", "",
             f"type {noun.capitalize()} struct {{", "\tID    int", "\tName  string", "}", "",
             f"func {fn}(items []{noun.capitalize()}) map[string]int {{", "\tcounts := make(map[string]int)",
             "\tfor _, it := range items {"]
    if scaffold:
        lines += ["\t\t// step 1: normalise", "\t\tkey := strings.ToLower(it.Name)",
                  "\t\tif key == \"\" {", "\t\t\tcontinue", "\t\t}", "\t\t// step 2: count", "\t\tcounts[key]++"]
    else:
        lines += ["\t\tcounts[strings.ToLower(it.Name)]++"]
    lines += ["\t}", "\treturn counts", "}", "", "func main() {",
              f"\tfmt.Println({fn}(nil), {rng.randint(0, 99)})", "}"]
    return "\n".join(lines) + "\n"


def rust_module(rng: random.Random, scaffold: bool) -> str:
    noun = pick(rng, IDENT_NOUNS)
    lines = ["use std::collections::HashMap;", "", "#[derive(Debug, Clone)]",
             f"pub struct {noun.capitalize()} {{", "    pub id: u64,", "    pub score: f64,", "}", "",
             f"pub fn {ident(rng)}(items: &[{noun.capitalize()}]) -> HashMap<u64, f64> {{",
             "    let mut out = HashMap::new();", "    for it in items {"]
    if scaffold:
        lines += ["        // step 1: skip low scores", f"        if it.score < {rng.random():.2f} {{",
                  "            continue;", "        }", "        // step 2: keep the best",
                  "        let e = out.entry(it.id).or_insert(0.0);", "        if it.score > *e {",
                  "            *e = it.score;", "        }"]
    else:
        lines += ["        out.insert(it.id, it.score);"]
    lines += ["    }", "    out", "}"]
    return "\n".join(lines) + "\n"


def sql_script(rng: random.Random, scaffold: bool) -> str:
    table, col = pick(rng, IDENT_NOUNS), pick(rng, IDENT_NOUNS)
    lines = [f"-- {table} reporting queries", f"CREATE TABLE IF NOT EXISTS {table}s (",
             "    id INTEGER PRIMARY KEY,", f"    {col}_id INTEGER NOT NULL,",
             f"    amount NUMERIC({rng.randint(8, 14)}, 2) DEFAULT 0,", "    created_at TIMESTAMP NOT NULL", ");", "",
             f"CREATE INDEX idx_{table}_{col} ON {table}s ({col}_id);", ""]
    if scaffold:
        lines += ["WITH totals AS (", f"    SELECT {col}_id, SUM(amount) AS total", f"    FROM {table}s",
                  f"    WHERE created_at >= DATE '20{rng.randint(10, 24)}-01-01'", f"    GROUP BY {col}_id", ")",
                  f"SELECT {col}_id, total", "FROM totals", f"WHERE total > {rng.randint(10, 900)}",
                  "ORDER BY total DESC;"]
    else:
        lines += [f"SELECT {col}_id, COUNT(*) AS n FROM {table}s GROUP BY {col}_id ORDER BY n DESC LIMIT "
                  f"{rng.randint(5, 50)};"]
    return "\n".join(lines) + "\n"


def java_class(rng: random.Random, scaffold: bool) -> str:
    cls, noun = ident(rng, "pascal"), pick(rng, IDENT_NOUNS)
    lines = [f"package com.example.{noun};", "", "import java.util.ArrayList;", "import java.util.List;", "",
             f"public class {cls} {{", f"    private final List<String> {noun}s = new ArrayList<>();",
             f"    private int limit = {rng.randint(4, 256)};", "",
             f"    public void add(String {noun}) {{", f"        if ({noun} == null || {noun}.isEmpty()) {{",
             "            throw new IllegalArgumentException(\"empty\");", "        }",
             f"        {noun}s.add({noun});", "    }", ""]
    if scaffold:
        lines += ["    public int countLong(int min) {", "        int n = 0;", f"        for (String s : {noun}s) {{",
                  "            if (s.length() >= min) {", "                n++;", "            }", "        }",
                  "        return Math.min(n, limit);", "    }", ""]
    lines += [f"    public int size() {{ return {noun}s.size(); }}", "}"]
    return "\n".join(lines) + "\n"


def typescript_module(rng: random.Random, scaffold: bool) -> str:
    noun, fn = pick(rng, IDENT_NOUNS), ident(rng, "camel")
    kind = noun.capitalize()
    lines = [f"export interface {kind} {{", "  id: string;", "  score: number;", "  tags?: string[];", "}", "",
             f"export function {fn}(items: {kind}[], min = {rng.randint(0, 10)}): {kind}[] {{"]
    if scaffold:
        lines += ["  // 1. drop low scores", "  const kept = items.filter((it) => it.score >= min);",
                  "  // 2. stable sort by score", "  kept.sort((a, b) => b.score - a.score);",
                  "  // 3. cap the result", f"  return kept.slice(0, {rng.randint(3, 30)});"]
    else:
        lines += ["  return items.filter((it) => it.score >= min);"]
    lines += ["}"]
    return "\n".join(lines) + "\n"


GENERATORS = (python_module, python_module, python_module, javascript_module, c_module, shell_script,
              go_module, rust_module, sql_script, java_class, typescript_module)
# snippets reused by the code_text generators: language tag -> generator
SNIPPETS = {"python": python_module, "javascript": javascript_module, "c": c_module, "bash": shell_script,
            "go": go_module, "rust": rust_module, "sql": sql_script, "java": java_class,
            "typescript": typescript_module}


def generate(rng: random.Random, scaffold: bool) -> str:
    return pick(rng, GENERATORS)(rng, scaffold)
