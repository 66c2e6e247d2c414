#!/usr/bin/env python3
"""Finds import cycles between the modules of a Rust crate.

    scripts/module-cycles.py crates/ioc-server [crates/ioc-store ...]

Each source file under `src/` is a module (`a/b.rs` and `a/b/mod.rs` are
`a::b`). A module depends on another when it names it in a path starting
with `crate::` or `super::` (in a `use` or inline), or, for a module's own
children, `self::`/`child::`. Edges between a module and its own ancestors
or descendants are not counted: a parent and its children are one room (the
parent declares and re-exports them, they use its types). Any other cycle
is printed, and the exit status is 1 if there is one.
"""

import pathlib
import re
import sys

PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\}", re.S)


def modules(src: pathlib.Path) -> dict:
    found = {}
    for path in src.rglob("*.rs"):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] in ("mod", "lib", "main"):
            parts = parts[:-1]
        if parts and parts[-1] == "tests":
            continue  # test modules are not part of the crate's rooms
        found[tuple(parts)] = path
    return found


def strip_tests_and_comments(text: str) -> str:
    text = re.split(r"\n#\[cfg\(test\)\]", text)[0]
    return re.sub(r"//[^\n]*", "", text)


def resolve(mods: dict, base: tuple, segments: list) -> tuple:
    """The longest module prefix of base + segments."""
    path = list(base)
    best = None
    for seg in segments:
        path.append(seg)
        if tuple(path) in mods:
            best = tuple(path)
    return best


def edges(mods: dict) -> dict:
    graph = {m: set() for m in mods}
    for module, path in mods.items():
        text = strip_tests_and_comments(path.read_text())
        refs = []
        for root, rest in PATH.findall(text):
            refs.append((root, rest.split("::")[1:]))
        for root, prefix, group in USE_GROUP.findall(text):
            head = prefix.split("::")[1:] if prefix else []
            for item in re.split(r"[,\s{}]+", group):
                if item and item not in ("self", "*"):
                    refs.append((root, head + item.split("::")))
        for root, segments in refs:
            if root == "crate":
                base = ()
            else:
                # `super::` from a/b.rs or a/b/mod.rs means a; each further
                # `super` one level up.
                extra = 0
                while segments and segments[0] == "super":
                    extra += 1
                    segments = segments[1:]
                base = module[: len(module) - 1 - extra]
            target = resolve(mods, base, segments)
            if target is None or target == module:
                continue
            nested = target[: len(module)] == module or module[: len(target)] == target
            if not nested:
                graph[module].add(target)
    return graph


def cycles(graph: dict) -> list:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    failed = False
    for crate in sys.argv[1:]:
        mods = modules(pathlib.Path(crate) / "src")
        found = cycles(edges(mods))
        name = pathlib.Path(crate).name
        if not found:
            print(f"{name}: {len(mods)} modules, no import cycle")
        for component in found:
            failed = True
            names = ", ".join("::".join(m) or "crate" for m in component)
            print(f"{name}: import cycle through {names}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
