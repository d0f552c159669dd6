"""One way to compile archgym's numeric kernels with numba: lazily, cached, loudly.

A kernel is a plain-Python function written in numba's subset (numpy arrays
and numbers).  :class:`Kernel` wraps it; nothing happens until the compiled
function is first asked for, so importing archgym or a simulator never
imports numba and changes no process-wide setting.

``Kernel(func, label=..., example=...).compiled()``, on its first call in a
process:

* imports numba and compiles ``func`` with ``numba.njit`` for exactly one
  signature, the numba types of ``example()``'s arguments.  Later calls whose
  arguments numba can convert to it (e.g. a C-contiguous array where the
  signature has layout ``A``) reuse that compilation, others raise
  ``TypeError``: nothing is re-specialised behind the caller's back.
* compiles with it every plain function of the same top-level package
  (``archgym``) that ``func`` reaches through a global name (``from .timing
  import earliest``) or a module attribute (``timing.earliest``), each as its
  own numba function, called only from compiled code (no Python wrapper) and
  inlined by LLVM (``forceinline``).  Small functions keep numba's compile
  time down (it grows faster than linearly with a function's size).  Do not
  pass a constant as an argument to such a function: numba would compile it
  again for that literal value (:meth:`Kernel.specializations` counts them).
* caches the machine code on disk (numba ``cache=True``, the entry only: its
  code contains the callees'), so later processes only load it.  The cache
  folder is ``NUMBA_CACHE_DIR`` if the user set it, else the user's cache
  folder ``$XDG_CACHE_HOME/archgym/numba`` (``~/.cache/archgym/numba``) --
  never inside the installed package, which nothing writes into; inside it,
  one sub-folder per kernel and version, ``<label>-<hash>``, the hash covering
  every source file of the kernel, this module and the options (numba itself
  only notices edits to the entry's own file).  The folder reaches numba
  through ``numba.config.CACHE_DIR``, set while the kernel is set up and
  restored afterwards; no environment variable is touched.
* on a cache miss (the first call on a machine, or after an upgrade) writes
  exactly one line to stderr while it compiles, e.g.
  ``archgym: compiling the DRAM controller kernel for this machine (once, about 7 s; cached in ...)``.
  Nothing is printed on a cache hit, and nothing ever goes to stdout.
  ``ARCHGYM_QUIET=1`` or :func:`set_quiet` silences it.
* raises :class:`JitError` (a ``RuntimeError``) naming the kernel and
  numba's error if numba cannot be imported or the compilation fails; it
  never falls back silently to the pure-Python path, which is one to two
  orders of magnitude slower.  The error is remembered: later calls raise it
  again without retrying.

Native code (``Kernel(..., returns="int64")``): importing numba and loading
its cache costs a process most of a second (numba 0.3 s, the numpy and scipy
modules its typing pulls in 0.3 s, more under load), more than a small kernel
runs.  A kernel that declares its scalar result type is compiled through a C
entry (a numba ``cfunc`` taking each array as a data pointer and its shape),
and that entry's machine code, a relocatable object, is saved in the kernel's
cache folder, named by a key of the machine (target triple, CPU name and
features), the Python ABI and the numba and llvmlite versions.  A later
process loads it with llvmlite's MCJIT (about 0.05 s) and never imports
numba; symbols that only numba's error paths use are bound to ``abort`` (the
kernels never raise).  Its arguments must be C-contiguous writable arrays of
the example's dtypes and dimensions, and the example's scalar types; anything
else is a ``TypeError``, as from numba's dispatcher.  A missing, foreign or
damaged object (checksummed) is compiled again.

``ARCHGYM_NOJIT=1`` (any value but ``""``, ``0``, ``false``, ``no``) is the
explicit opt-in to the pure path: :meth:`Kernel.select` then returns the
plain function, :meth:`Kernel.compiled` raises, and numba is never imported.
Kernels whose pure path is another model (the systolic numpy model, the
forest's numpy walk) check :func:`disabled` themselves.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import re
import sys
import threading
import types
from pathlib import Path
from typing import Any, Callable

__all__ = ["Kernel", "JitError", "disabled", "set_quiet", "cache_root"]

_OFF = ("", "0", "false", "no")
#: callees are only called from compiled code (no Python wrappers) and inlined into their callers by LLVM
_CALLEE_OPTIONS = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True, "forceinline": True}
_quiet: bool | None = None


class JitError(RuntimeError):
    """A kernel cannot be compiled: numba is missing, the compilation failed, or ``ARCHGYM_NOJIT`` is set."""


def _flag(name: str) -> bool:
    value = os.environ.get(name)
    return value is not None and value.strip().lower() not in _OFF


def disabled() -> bool:
    """True when ``ARCHGYM_NOJIT`` asks for the pure-Python path (read at every call)."""
    return _flag("ARCHGYM_NOJIT")


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) the one-line compile notice for this process; overrides ``ARCHGYM_QUIET``."""
    global _quiet
    _quiet = bool(quiet)


def _is_quiet() -> bool:
    return _quiet if _quiet is not None else _flag("ARCHGYM_QUIET")


def cache_root(module_file: str) -> str:
    """The folder numba caches go to for a kernel defined in ``module_file`` (see the module docstring)."""
    user = os.environ.get("NUMBA_CACHE_DIR")
    if user:
        return user
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "archgym", "numba")


def _ours(obj: object, package: str) -> bool:
    return isinstance(obj, (types.FunctionType, types.ModuleType)) and \
        (getattr(obj, "__module__", None) or getattr(obj, "__name__", "")).split(".")[0] == package


def _callees(func: types.FunctionType, package: str) -> list[types.FunctionType]:
    """``func`` and every plain function of ``package`` it reaches through a global name
    or a module's attribute (``timing.earliest``), callees first."""
    seen: dict[types.FunctionType, None] = {}

    def names(code: types.CodeType) -> set[str]:
        out = set(code.co_names)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                out |= names(c)
        return out

    def visit(f: types.FunctionType) -> None:
        if f in seen:
            return
        seen[f] = None                       # against cycles; re-inserted after its callees
        used = names(f.__code__)
        for name in used:
            g = f.__globals__.get(name)
            if not _ours(g, package):
                continue
            if isinstance(g, types.FunctionType):
                visit(g)
            else:                            # a module of the package: the attributes used with it
                for attr in used:
                    h = getattr(g, attr, None)
                    if isinstance(h, types.FunctionType) and _ours(h, package):
                        visit(h)
        del seen[f]
        seen[f] = None

    visit(func)
    return list(seen)


class Kernel:
    """A numba kernel compiled on first use (see the module docstring).

    ``func``: the plain-Python entry function (also the pure path).
    ``label``: what it is, for messages ("the DRAM controller kernel").
    ``example``: returns example arguments; their numba types are the one
    signature compiled.  ``expected_s``: rough compile time for the notice.
    ``returns``: the numba type name of the kernel's scalar result
    (``"int64"``, ``"float64"``, ...); given, the kernel is kept as native
    code that later processes load without importing numba (see the module
    docstring; its arguments must then be C-contiguous arrays and scalars).
    ``options``: passed to ``numba.njit`` for every function of the kernel.
    Creating one does no work.
    """

    def __init__(self, func: Callable, *, label: str, example: Callable[[], tuple], expected_s: float = 1.0,
                 returns: str | None = None, **options: Any) -> None:
        self.py_func = func
        self.label = label
        self._example = example
        self._expected_s = expected_s
        self._returns = returns
        self._options = options
        self._compiled: Callable | None = None
        self._error: JitError | None = None
        self._lock = threading.Lock()
        self._dispatcher_map: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Kernel({self.label!r}, {self.py_func.__module__}.{self.py_func.__qualname__})"

    def available(self) -> bool:
        """True unless ``ARCHGYM_NOJIT`` is set or numba is not installed (imports nothing, compiles nothing)."""
        return not disabled() and importlib.util.find_spec("numba") is not None

    def select(self, jit: bool | None = None) -> Callable:
        """The function to call: ``jit=False`` the plain one, ``True`` the compiled one,
        ``None`` the compiled one unless ``ARCHGYM_NOJIT`` is set."""
        if jit is False or (jit is None and disabled()):
            return self.py_func
        return self.compiled()

    def compiled(self) -> Callable:
        """The compiled function, compiled or loaded from the cache on the first call; raises :class:`JitError`."""
        if self._compiled is not None:
            return self._compiled
        if disabled():
            raise JitError(f"{self.label} is not compiled: ARCHGYM_NOJIT is set (unset it, or use the pure path)")
        with self._lock:
            if self._compiled is None:
                if self._error is None:
                    try:
                        self._compiled = self._load_native() if self._returns else None
                        if self._compiled is None:
                            self._compiled = self._compile()
                    except JitError as e:
                        self._error = e
                if self._error is not None:
                    raise self._error
        return self._compiled

    # -- compilation -------------------------------------------------------------------------
    def _fail(self, what: str, err: BaseException) -> JitError:
        return JitError(f"{what} {self.label} ({self.py_func.__module__}.{self.py_func.__qualname__}): "
                        f"{type(err).__name__}: {err}\nSet ARCHGYM_NOJIT=1 to run the pure-Python path instead "
                        "(same results, one to two orders of magnitude slower).")

    def _compile(self) -> Callable:
        try:
            import numba
            from numba.core import event
        except ImportError as e:
            raise self._fail("numba cannot be imported, so it cannot compile", e) from e
        funcs = _callees(self.py_func, self.py_func.__module__.split(".")[0])
        cache_dir = self._cache_dir(funcs)
        native = self._returns is not None
        entry, cached = self._dispatchers(numba, funcs, cache_dir, native)
        try:
            example = self._example()
            notice = _notice_listener(event, self._notice(cache_dir if cached else None))
            with event.install_listener("numba:compile", notice):
                if native:
                    cfunc, spec = _c_entry(numba, self.py_func, entry.__globals__, example, self._returns,
                                           self._options)
                else:
                    entry.compile(tuple(numba.typeof(a) for a in example))
        except Exception as e:  # noqa: BLE001 - any failure inside numba is reported as one error
            raise self._fail("numba failed to compile", e) from e
        if not native:
            entry.disable_compile()
            return entry
        code = _NativeCode(cfunc.native_name, spec, self._returns, _undefined_symbols(cfunc._library),
                           cfunc._library._get_compiled_object())
        if cached:
            code.save(cache_dir)
        self._keepalive = cfunc
        return _native_caller(cfunc.address, spec, self._returns, self.label)

    def _load_native(self) -> Callable | None:
        """The kernel from its native code in the cache, without numba; None if there is none
        for this source, machine and toolchain (or it cannot be loaded: compile instead)."""
        funcs = _callees(self.py_func, self.py_func.__module__.split(".")[0])
        try:
            code, engine = _NativeCode.load(self._cache_dir(funcs))
        except Exception:  # noqa: BLE001 - a missing, foreign or damaged file: compile instead
            return None
        self._keepalive = engine
        return _native_caller(engine.get_function_address(code.symbol), code.spec, code.returns, self.label)

    def _cache_dir(self, funcs: list[types.FunctionType]) -> str:
        digest = hashlib.sha1(repr((self.label, sorted(self._options.items()), _CALLEE_OPTIONS)).encode())
        for path in sorted({__file__} | {inspect.getsourcefile(f) or f.__code__.co_filename for f in funcs}):
            digest.update(Path(path).read_bytes())
        slug = re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")
        return os.path.join(cache_root(inspect.getfile(self.py_func)), f"{slug}-{digest.hexdigest()[:12]}")

    def _dispatchers(self, numba: Any, funcs: list[types.FunctionType], cache_dir: str,
                     native: bool = False) -> tuple[Any, bool]:
        """A numba dispatcher per function, each seeing its callees (by name or as attributes
        of a module) as dispatchers; only the entry (last) is cached, in ``cache_dir``: its
        machine code includes the callees'.  ``native``: the entry gets no dispatcher (its
        body becomes the C entry of :func:`_c_entry`, which :meth:`_compile` caches as native
        code; the entry returned is the plain function in its namespace), and the second value
        says whether ``cache_dir`` is writable."""
        namespaces: dict[str, dict] = {}
        dispatchers: dict[types.FunctionType, Any] = {}
        entry, cached = None, False
        for f in funcs:
            ns = namespaces.setdefault(f.__module__, dict(f.__globals__))
            copy = types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__, f.__closure__)
            copy.__qualname__ = f.__qualname__
            if f is not self.py_func:
                dispatchers[f] = numba.njit(**_CALLEE_OPTIONS, **self._options)(copy)
                continue
            if native:       # its body becomes the C entry (_c_entry): no dispatcher of its own
                entry, cached = copy, _writable(cache_dir)
                continue
            saved = numba.config.CACHE_DIR
            numba.config.CACHE_DIR = cache_dir
            try:
                entry, cached = numba.njit(cache=True, **self._options)(copy), True
            except RuntimeError:                  # no writable cache folder anywhere: compile uncached
                entry = numba.njit(**self._options)(copy)
            finally:
                numba.config.CACHE_DIR = saved
            dispatchers[f] = entry
        modules: dict[str, types.ModuleType] = {}
        for ns in namespaces.values():
            for name, value in ns.items():
                if isinstance(value, types.FunctionType) and value in dispatchers:
                    ns[name] = dispatchers[value]
                elif isinstance(value, types.ModuleType) and any(f.__module__ == value.__name__ for f in funcs):
                    if value.__name__ not in modules:    # the module as the kernel sees it
                        proxy = modules[value.__name__] = types.ModuleType(value.__name__)
                        proxy.__dict__.update({k: dispatchers.get(v, v) if isinstance(v, types.FunctionType) else v
                                               for k, v in vars(value).items()})
                    ns[name] = modules[value.__name__]
        self._dispatcher_map = {f"{f.__module__}.{f.__qualname__}": d for f, d in dispatchers.items()}
        return entry, cached

    def specializations(self) -> dict[str, int]:
        """Compiled signatures per function of the kernel (after :meth:`compiled`); each
        should be 1: a constant passed as an argument makes numba compile a callee again
        for that literal value, which costs compile time."""
        return {name: len(d.signatures) for name, d in self._dispatcher_map.items()}

    def _notice(self, cache_dir: str | None) -> str | None:
        if _is_quiet():
            return None
        where = f"cached in {cache_dir}" if cache_dir else "not cached: no writable cache folder"
        return (f"archgym: compiling {self.label} for this machine (once, about {self._expected_s:.0f} s; "
                f"{where})")


def _notice_listener(event: Any, line: str | None) -> Any:
    """A numba event listener writing ``line`` to stderr at the first compile start
    (numba fires ``numba:compile`` only on a cache miss)."""

    class Notice(event.Listener):
        def on_start(self, ev: Any) -> None:
            nonlocal line
            if line is not None:
                print(line, file=sys.stderr, flush=True)
                line = None

        def on_end(self, ev: Any) -> None:
            pass

    return Notice()


def _writable(folder: str) -> bool:
    """True if ``folder`` exists or can be made, and can be written."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


# -- native code: the compiled kernel as one relocatable object, loaded without numba --------------

#: ctypes types of the scalar numba types a native kernel takes or returns
_C_SCALARS = {"int64": "c_int64", "int32": "c_int32", "uint64": "c_uint64", "float64": "c_double",
              "bool": "c_bool", "none": None}


def _c_entry(numba: Any, func: types.FunctionType, namespace: dict, example: tuple, returns: str,
             options: dict) -> tuple[Any, list]:
    """A C-callable numba ``cfunc`` with ``func``'s body: its array arguments become a data
    pointer and the dimensions each (the body starts by rebuilding the arrays with
    ``numba.carray``), its scalars stay themselves.  The body is ``func``'s own source,
    compiled in ``namespace`` (its module's, with the callees as dispatchers), so the kernel
    is compiled and optimised once, as the cfunc.  Returns the cfunc and the argument spec:
    per argument ``("array", dtype string, ndim)`` or ``("scalar", numba type name)``."""
    import ast
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    fn = tree.body[0]
    names = [a.arg for a in fn.args.args]
    if len(names) != len(example) or fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs or fn.decorator_list:
        raise TypeError(f"{func.__qualname__}: a native kernel takes exactly its example's positional arguments")
    params, prologue, sig, spec = [], [], [], []
    for name, a in zip(names, example):
        if hasattr(a, "__array_interface__"):
            if not a.flags.c_contiguous:
                raise TypeError(f"argument {name} of the example is not C-contiguous; a native kernel needs that")
            dims = [f"{name}__n{k}" for k in range(a.ndim)]
            params += [f"{name}__p", *dims]
            sig += [numba.types.CPointer(numba.from_dtype(a.dtype)), *[numba.types.int64] * a.ndim]
            prologue.append(f"{name} = __archgym_carray({name}__p, ({''.join(d + ', ' for d in dims)}))")
            spec.append(("array", a.dtype.str, a.ndim))
        else:
            t = numba.typeof(a)
            if str(t) not in _C_SCALARS:
                raise TypeError(f"argument {name} of the example has type {t}; a native kernel takes arrays and "
                                f"the scalar types {', '.join(k for k in _C_SCALARS if k != 'none')}")
            params.append(name)
            sig.append(t)
            spec.append(("scalar", str(t)))
    fn.name = "__archgym_c_entry"
    fn.args = ast.parse(f"def f({', '.join(params)}): pass").body[0].args
    fn.body = [*ast.parse("\n".join(prologue)).body, *fn.body]
    namespace["__archgym_carray"] = numba.carray
    exec(compile(ast.fix_missing_locations(tree), inspect.getsourcefile(func) or "<kernel>", "exec"),  # noqa: S102
         namespace)
    restype = getattr(numba.types, returns)
    cfunc_options = {k: v for k, v in options.items() if k != "_nrt"}   # carray needs numba's runtime
    return numba.cfunc(restype(*sig), **cfunc_options)(namespace.pop("__archgym_c_entry")), spec


def _undefined_symbols(library: Any) -> list[tuple[str, str]]:
    """``(name, "function" | "data")`` of every symbol a numba library's code takes from
    outside it (LLVM intrinsics excepted)."""
    module = library._final_module
    out = [(f.name, "function") for f in module.functions if f.is_declaration and not f.name.startswith("llvm.")]
    out += [(g.name, "data") for g in module.global_variables if g.is_declaration]
    return out


def _native_caller(address: int, spec: list, returns: str, label: str) -> Callable:
    """A Python function calling the C entry at ``address`` with the kernel's own arguments:
    each array is checked (dtype, dimensions, C-contiguous, writable: otherwise
    ``TypeError``, as numba's dispatcher would raise) and passed as its data pointer and
    shape.  The GIL is released during the call."""
    import ctypes
    import numpy as np

    argtypes: list = []
    for kind, *what in spec:
        if kind == "array":
            argtypes += [ctypes.c_void_p] + [ctypes.c_int64] * what[1]
        else:
            argtypes.append(getattr(ctypes, _C_SCALARS[what[0]]))
    restype = _C_SCALARS[returns]
    cfunc = ctypes.CFUNCTYPE(restype and getattr(ctypes, restype), *argtypes)(address)
    arrays = [(i, np.dtype(what[0]), what[1]) for i, (kind, *what) in enumerate(spec) if kind == "array"]
    n_args = len(spec)

    def call(*args: Any) -> Any:
        if len(args) != n_args:
            raise TypeError(f"{label} takes {n_args} arguments, got {len(args)}")
        flat = list(args)
        for i, dtype, ndim in reversed(arrays):
            a = args[i]
            if (type(a) is not np.ndarray or a.dtype != dtype or a.ndim != ndim or not a.flags.c_contiguous
                    or not a.flags.writeable):
                raise TypeError(f"{label}: argument {i} must be a writable C-contiguous {ndim}-d {dtype} array, "
                                f"got {type(a).__name__} {getattr(a, 'dtype', '')}")
            flat[i:i + 1] = (a.ctypes.data, *a.shape)
        return cfunc(*flat)

    return call


class _NativeCode:
    """A kernel's C entry as machine code: saved next to numba's cache after a compile, and
    loaded by later processes through llvmlite's MCJIT (which numba brings) without
    importing numba.  Files are named by a key of the machine (target triple, CPU name and
    features), the Python ABI and the numba and llvmlite versions, so a cache folder shared
    between machines never hands one another's code; a checksum guards the object."""

    def __init__(self, symbol: str, spec: list, returns: str, undefined: list, obj: bytes) -> None:
        self.symbol, self.spec, self.returns, self.undefined, self.obj = symbol, spec, returns, undefined, obj

    @staticmethod
    def _paths(cache_dir: str) -> tuple[str, str]:
        import llvmlite
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        numba_spec = importlib.util.find_spec("numba")
        version_file = Path(numba_spec.origin).with_name("_version.py") if numba_spec and numba_spec.origin else None
        key = repr((sys.implementation.cache_tag, llvmlite.__version__,
                    hashlib.sha1(version_file.read_bytes()).hexdigest() if version_file else "",
                    llvm.get_process_triple(), llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten(),
                    [os.environ.get(k) for k in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "NUMBA_OPT",
                                                 "NUMBA_ENABLE_AVX")]))
        stem = os.path.join(cache_dir, "native-" + hashlib.sha1(key.encode()).hexdigest()[:16])
        return stem + ".json", stem + ".o"

    def save(self, cache_dir: str) -> None:
        """Write the object and its description (atomically; a failure to write is ignored:
        later processes then compile again)."""
        try:
            meta_path, obj_path = self._paths(cache_dir)
            meta = {"symbol": self.symbol, "spec": self.spec, "returns": self.returns,
                    "undefined": self.undefined, "sha256": hashlib.sha256(self.obj).hexdigest()}
            for path, data in ((obj_path, self.obj), (meta_path, json.dumps(meta).encode())):
                tmp = f"{path}.{os.getpid()}.tmp"
                with open(tmp, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
        except Exception:  # noqa: BLE001 - the cache is an optimisation
            pass

    @classmethod
    def load(cls, cache_dir: str) -> tuple["_NativeCode", Any]:
        """The saved code and an execution engine holding it (raises if there is none or it
        is damaged).  Symbols the process lacks that only numba's error paths use (its
        helpers and runtime, absent without numba) are bound to ``abort``: the kernel never
        raises, so they are never called."""
        import ctypes

        import llvmlite.binding as llvm

        meta_path, obj_path = cls._paths(cache_dir)
        meta = json.loads(Path(meta_path).read_text())
        obj = Path(obj_path).read_bytes()
        if hashlib.sha256(obj).hexdigest() != meta["sha256"]:
            raise ValueError("damaged native object")
        process = ctypes.CDLL(None)
        stubs = []
        for name, kind in meta["undefined"]:
            if hasattr(process, name) or llvm.address_of_symbol(name):
                continue
            if kind != "function" or not name.startswith(("numba_", "NRT_")):
                raise LookupError(f"symbol {name} not found")
            stubs.append(f"define void @{name}() {{\n  call void @abort()\n  unreachable\n}}")
        module = llvm.parse_assembly("declare void @abort()\n" + "\n".join(stubs))
        machine = llvm.Target.from_default_triple().create_target_machine(codemodel="jitdefault")
        engine = llvm.create_mcjit_compiler(module, machine)
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        code = cls(meta["symbol"], [tuple(s) for s in meta["spec"]], meta["returns"], meta["undefined"], obj)
        if not engine.get_function_address(code.symbol):
            raise LookupError("entry not found in the native object")
        return code, engine
