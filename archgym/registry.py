"""One registry for simulators (and the environments around them) and searchers.

Built-in and plugin simulators are found the same way: the entry-point group
``archgym.simulators`` (name = environment id such as ``Systolic-v0``, value =
``module:Class`` of a :class:`~archgym.simulator.Simulator` subclass), or a call
to :func:`register`.  Environments that are not a plain DSEEnv around a
simulator (e.g. the scratchpad scheduling env) use the group ``archgym.envs``
(value = a callable returning a ``gymnasium.Env``) or :func:`register_env`.  Searchers use the group ``archgym.agents`` (name = agent
name such as ``ga``) or :func:`register_agent`.  Entry points are read lazily:
their *names* are listed on first lookup (and when ``import archgym`` registers
the Gymnasium ids), and a module is imported only when that simulator or agent
is made.

After ``import archgym`` every simulator id is a Gymnasium id under the
``archgym/`` namespace::

    env = gymnasium.make("archgym/Systolic-v0", workload="resnet18",
                         objective="cycles", backend="simulator")

``backend`` selects what answers evaluations: ``"simulator"`` (the real one),
a :class:`~archgym.simulator.Simulator` instance (e.g. a trained proxy model
from ``archgym.cost_models``), the path of a stand-in file (a proxy model or a
table; refused in one line if it was made for another simulator, version,
space, workload or options; nothing in it is executed), or a callable
``simulator -> Simulator``.  File formats are backends found through the
entry-point group ``archgym.backends`` (value = ``module:attribute`` of a
:class:`~archgym.standin.FileBackend`) or :func:`register_backend`; the core
knows none of them by name.

Plugins a sweep or a worker needs (folders for ``sys.path``, modules to
import, ``module:Class`` targets to register) load in one explicit step,
:func:`load_plugins`.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import OptionError, UserInputError

__all__ = [
    "RegistryError",
    "OptionError",
    "register",
    "register_agent",
    "register_env",
    "make_simulator",
    "make",
    "make_agent",
    "agent_class",
    "simulator_class",
    "list_simulators",
    "list_agents",
    "list_envs",
    "resolve_id",
    "env_version",
    "register_backend",
    "list_backends",
    "load_plugins",
    "import_plugin",
    "PluginError",
]

SIM_GROUP = "archgym.simulators"
ENV_GROUP = "archgym.envs"
AGENT_GROUP = "archgym.agents"
BACKEND_GROUP = "archgym.backends"
NAMESPACE = "archgym"


class RegistryError(UserInputError, KeyError):
    """Unknown simulator/agent id, or a plugin that fails to load."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass
class _Entry:
    target: Any  # a class, a callable, or "module:attr"
    kwargs: dict = field(default_factory=dict)
    source: str = "register()"

    def load(self) -> Any:
        if isinstance(self.target, str):
            mod, _, attr = self.target.partition(":")
            try:
                obj = importlib.import_module(mod)
                for part in attr.split("."):
                    obj = getattr(obj, part)
            except Exception as exc:  # a plugin that fails to import: say which
                raise RegistryError(f"cannot load {self.target!r} ({self.source}): {exc}") from exc
            self.target = obj
        return self.target


_SIMS: dict[str, _Entry] = {}
_AGENTS: dict[str, _Entry] = {}
_ENVS: dict[str, _Entry] = {}  # extra environments that are not a DSEEnv around a simulator
_BACKENDS: dict[str, _Entry] = {}  # stand-in file formats (archgym.standin.FileBackend)
_LOADED_GROUPS: set[str] = set()


def _entry_points(group: str) -> list:
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


def _load_group(group: str) -> None:
    if group in _LOADED_GROUPS:
        return
    _LOADED_GROUPS.add(group)
    table = {SIM_GROUP: _SIMS, ENV_GROUP: _ENVS, AGENT_GROUP: _AGENTS, BACKEND_GROUP: _BACKENDS}[group]
    for ep in _entry_points(group):
        if ep.name not in table:
            table[ep.name] = _Entry(ep.value, source=f"entry point {group}:{ep.name}")
            if group in (SIM_GROUP, ENV_GROUP):
                _register_gym_id(ep.name)


_PENDING_GYM_IDS: list[str] = []  # ids waiting for gymnasium to be imported


def _register_gym_id(env_id: str) -> None:
    """Make ``archgym/<env_id>`` a Gymnasium id: now if gymnasium is loaded, else as soon as it is.

    Deferred so that ``import archgym`` (and a CLI call such as ``archgym
    evaluate``, which never needs gymnasium) does not pay gymnasium's import
    time (~0.3 s CPU); ``gymnasium.make("archgym/...")`` still works after
    ``import archgym``, whichever of the two was imported first.
    """
    _PENDING_GYM_IDS.append(env_id)
    if "gymnasium" in sys.modules and getattr(sys.modules["gymnasium"], "registry", None) is not None:
        _flush_gym_ids()
    elif not any(isinstance(f, _AfterGymnasiumImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterGymnasiumImport())


def _flush_gym_ids() -> None:
    import gymnasium

    while _PENDING_GYM_IDS:
        env_id = _PENDING_GYM_IDS.pop(0)
        gid = f"{NAMESPACE}/{env_id}"
        if gid not in gymnasium.registry:
            gymnasium.register(id=gid, entry_point="archgym.registry:_gym_entry", kwargs={"env_id": env_id},
                               disable_env_checker=True)


class _AfterGymnasiumImport(importlib.abc.MetaPathFinder):
    """One-shot import hook: registers the pending ids right after ``gymnasium`` finishes importing."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "gymnasium":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisterAfterExec(spec.loader)
        return spec


class _RegisterAfterExec:
    """A loader that runs the real one, then :func:`_flush_gym_ids` (everything else is delegated)."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        _flush_gym_ids()

    def __getattr__(self, name: str):
        return getattr(self._loader, name)


# --------------------------------------------------------------------------- ids
def _load_env_groups() -> None:
    _load_group(SIM_GROUP)
    _load_group(ENV_GROUP)


def list_simulators() -> list[str]:
    _load_env_groups()
    return sorted(_SIMS)


def list_envs() -> list[str]:
    """Every environment id: one per simulator plus extra registered envs."""
    _load_env_groups()
    return sorted(set(_SIMS) | set(_ENVS))


def list_agents() -> list[str]:
    _load_group(AGENT_GROUP)
    return sorted(_AGENTS)


def resolve_id(name: str) -> str:
    """Canonical id for ``name``: accepts ``archgym/Systolic-v0``, ``Systolic-v0``,
    ``systolic`` (case-insensitive, version optional)."""
    _load_env_groups()
    ids = set(_SIMS) | set(_ENVS)
    n = name.split("/", 1)[1] if name.startswith(NAMESPACE + "/") else name
    if n in ids:
        return n
    low = n.lower()
    matches = [i for i in ids if i.lower() == low or i.lower().rsplit("-v", 1)[0] == low]
    if len(matches) == 1:
        return matches[0]
    raise RegistryError(f"unknown environment {name!r}; known: {', '.join(sorted(ids)) or '(none)'}")


# --------------------------------------------------------------------------- registration
def register(env_id: str, simulator: Any, overwrite: bool = False, **default_kwargs: Any) -> None:
    """Register a simulator class (or ``"module:Class"`` string) under ``env_id``
    (``Name-vN``); it becomes the Gymnasium id ``archgym/<env_id>``."""
    _load_env_groups()
    if "/" in env_id:
        raise ValueError(f"environment id {env_id!r} must not contain '/' (the namespace is added)")
    if env_id in _SIMS and not overwrite:
        raise ValueError(f"environment id {env_id!r} is already registered; pass overwrite=True to replace it")
    _SIMS[env_id] = _Entry(simulator, dict(default_kwargs))
    _register_gym_id(env_id)


def register_env(env_id: str, entry_point: Any, overwrite: bool = False, **default_kwargs: Any) -> None:
    """Register an environment that is not a plain DSEEnv (e.g. a scheduling env):
    ``entry_point`` is a callable or ``"module:callable"`` returning a ``gymnasium.Env``."""
    if env_id in _ENVS and not overwrite:
        raise ValueError(f"environment id {env_id!r} is already registered")
    _ENVS[env_id] = _Entry(entry_point, dict(default_kwargs))
    _register_gym_id(env_id)


def register_agent(name: str, agent_cls: Any, overwrite: bool = False) -> None:
    """Register a searcher class (or ``"module:Class"``) under ``name``."""
    _load_group(AGENT_GROUP)
    if name in _AGENTS and not overwrite:
        raise ValueError(f"agent {name!r} is already registered; pass overwrite=True to replace it")
    _AGENTS[name] = _Entry(agent_cls)


# --------------------------------------------------------------------------- construction
def simulator_class(env_id: str) -> type:
    sid = resolve_id(env_id)
    if sid not in _SIMS:
        raise RegistryError(f"{env_id!r} is an environment without a simulator")
    return _SIMS[sid].load()


def env_version(env_id: str) -> str:
    """The version of the simulator (or extra environment) behind ``env_id``:
    its class's ``version`` attribute ("" if it declares none)."""
    sid = resolve_id(env_id)
    entry = _SIMS[sid] if sid in _SIMS else _ENVS[sid]
    return str(getattr(entry.load(), "version", ""))


def make_simulator(env_id: str, **kwargs: Any):
    """The bare simulator (for batch evaluation): ``make_simulator("Systolic-v0", workload="resnet18")``."""
    sid = resolve_id(env_id)
    entry = _SIMS.get(sid)
    if entry is None:
        raise RegistryError(f"{env_id!r} is an environment without a simulator")
    cls = entry.load()
    options = {**entry.kwargs, **kwargs}
    _check_options(sid, cls, options)
    try:
        return cls(**options)
    except UserInputError:
        raise
    except TypeError as exc:  # the call's arguments, or the constructor itself refusing an option: one line
        if not _raised_by_the_call(exc, cls):
            raise  # a TypeError deeper inside the simulator is a bug: keep its traceback
        raise OptionError(f"{sid}: {_first_line(exc)}; options are: {', '.join(_option_names(cls)) or '(none)'}"
                          ) from exc
    except ValueError as exc:  # a constructor's check of its options: the user's value is wrong
        raise OptionError(f"{sid}: {_first_line(exc)}") from exc


def _raised_by_the_call(exc: BaseException, cls: type) -> bool:
    """True when ``exc`` came from calling ``cls`` itself: Python's argument
    check, or a ``raise`` in ``cls.__init__``'s own body (not deeper)."""
    tb = exc.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    if len(frames) == 1:  # raised by the call itself (argument binding)
        return True
    init = getattr(getattr(cls, "__init__", None), "__code__", None)
    return len(frames) == 2 and frames[-1] is init


def _first_line(exc: BaseException) -> str:
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _option_names(factory: Any) -> list[str]:
    import inspect

    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"]


def _check_options(env_id: str, factory: Any, options: dict) -> None:
    """Refuse option names ``factory`` does not take (one line naming the allowed
    ones) instead of a TypeError traceback, and values of the wrong kind for
    an option annotated ``int``, ``float``, ``bool`` or ``str`` (``true`` for
    a number, ``"32"`` for an integer, ``4.5`` for an integer): never a
    silently different meaning.  Factories taking ``**kwargs`` check the
    names they do not declare themselves."""
    import inspect

    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    params = sig.parameters
    allowed = _option_names(factory)
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = [k for k in options if k not in allowed]
        if unknown:
            extra = sorted(set(_ENV_KEYS) | {"backend"}) if env_id in _SIMS else []
            raise OptionError(f"{env_id}: unknown option {unknown[0]!r}; allowed: "
                              f"{', '.join(allowed + extra) or '(none)'}")
    for name, value in options.items():
        if name in params:
            _check_option_type(env_id, name, value, params[name].annotation)


_SCALAR_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


def _check_option_type(env_id: str, name: str, value: Any, annotation: Any) -> None:
    """One line if ``value`` is not of the scalar type ``annotation`` names
    (``int``, ``float``, ``bool``, ``str``, or one of them ``| None``); other
    annotations are the constructor's own business."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    kinds = [k.strip() for k in str(text).split("|")]
    optional = "None" in kinds
    kinds = [k for k in kinds if k != "None"]
    if len(kinds) != 1 or kinds[0] not in _SCALAR_TYPES or (value is None and optional):
        return
    want = _SCALAR_TYPES[kinds[0]]
    if want is bool:
        ok = isinstance(value, bool)
    elif want is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif want is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        what = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[want]
        raise OptionError(f"{env_id}: option {name!r} must be {what}, got {value!r} ({type(value).__name__})")


def register_backend(name: str, backend: Any, overwrite: bool = False) -> None:
    """Register a stand-in file format: a :class:`~archgym.standin.FileBackend`
    (or ``"module:attribute"`` naming one) under ``name``."""
    _load_group(BACKEND_GROUP)
    if name in _BACKENDS and not overwrite:
        raise ValueError(f"backend {name!r} is already registered; pass overwrite=True to replace it")
    _BACKENDS[name] = _Entry(backend)


def list_backends() -> list[str]:
    """Names of the registered stand-in file formats."""
    _load_group(BACKEND_GROUP)
    return sorted(_BACKENDS)


def _backend_for_file(path: str):
    """The registered backend that claims ``path`` (in name order)."""
    for name in list_backends():
        backend = _BACKENDS[name].load()
        if backend.claims(path):
            return backend
    raise OptionError(f"backend file {path!r} is not a stand-in file of a known format "
                      f"({', '.join(list_backends()) or 'none registered'})")


def _apply_backend(sim, backend: Any, options: dict | None = None):
    """What answers evaluations; ``options``: the simulator options besides the
    workload (a stand-in file refuses to load under other ones)."""
    from .simulator import Simulator

    if backend is None or backend == "simulator":
        return sim
    if isinstance(backend, Simulator):
        return backend
    if callable(backend):
        out = backend(sim)
        if not isinstance(out, Simulator):
            raise OptionError(f"backend callable returned {type(out).__name__}, not a Simulator")
        return out
    if isinstance(backend, (str, os.PathLike)):
        path = os.fspath(backend)
        if not os.path.isfile(path):
            raise OptionError(f"backend {path!r}: no such file; give 'simulator', a proxy or table file, "
                              "a Simulator or a callable")
        return _backend_for_file(path).load(path, sim, options or {})
    raise OptionError(f"unsupported backend {backend!r}; allowed: 'simulator', a Simulator, the path of a proxy "
                      "or table file, or a callable")


_ENV_KEYS = ("objective", "mode", "episode_length", "max_evaluations", "render_mode")


def make(env_id: str, *, backend: Any = "simulator", **kwargs: Any):
    """A :class:`~archgym.env.DSEEnv` (or registered extra env) without the
    Gymnasium wrappers; ``gymnasium.make("archgym/<id>", ...)`` calls this."""
    sid = resolve_id(env_id)
    if sid in _ENVS:
        entry = _ENVS[sid]
        factory = entry.load()
        options = {**entry.kwargs, **kwargs}
        _check_options(sid, factory, options)
        return factory(**options)
    from .env import DSEEnv

    env_kwargs = {k: kwargs.pop(k) for k in _ENV_KEYS if k in kwargs}
    options = {k: v for k, v in kwargs.items() if k != "workload"}
    sim = _apply_backend(make_simulator(sid, **kwargs), backend, options)
    return DSEEnv(sim, **env_kwargs)


def _gym_entry(env_id: str, **kwargs: Any):
    return make(env_id, **kwargs)


def agent_class(name: str) -> type:
    _load_group(AGENT_GROUP)
    entry = _AGENTS.get(name)
    if entry is None:
        raise RegistryError(f"unknown agent {name!r}; known: {', '.join(sorted(_AGENTS)) or '(none)'}")
    return entry.load()


def make_agent(name: str, *args: Any, **hyperparameters: Any):
    """A searcher by registered name, with hyperparameters as keyword arguments
    (validated by the agent; a positional one is refused in one line)."""
    return agent_class(name)(*args, **hyperparameters)


# --------------------------------------------------------------------------- plugins
class PluginError(UserInputError):
    """A plugin module that cannot be found or fails while it is imported (one line naming it)."""


def import_plugin(name: str):
    """Import a plugin given as a module name (``my_plugin``, ``pkg.mod``;
    the current folder is searched too) or as the path of a Python file
    (``./my_plugin.py``).  Anything that goes wrong -- no such module or
    file, a syntax error, an exception raised while the module runs -- is one
    :class:`PluginError` line naming the plugin, the error and where."""
    text = str(name).strip()
    if not text:
        raise PluginError("a plugin to import needs a module name or a .py file, got ''")
    try:
        if text.endswith(".py") or os.sep in text or text.startswith("."):
            return _import_file(text)
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.append(os.getcwd())  # `--import my_module` finds my_module.py in the current folder
        return importlib.import_module(text)
    except PluginError:
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        where = ""
        tb = exc.__traceback__
        while tb is not None:  # the innermost frame outside the import machinery: the plugin's own line
            filename = tb.tb_frame.f_code.co_filename
            if not filename.startswith("<frozen") and "importlib" not in filename and filename != __file__:
                where = f" ({filename}:{tb.tb_lineno})"
            tb = tb.tb_next
        if isinstance(exc, SyntaxError):
            where = f" ({exc.filename}:{exc.lineno})"
        raise PluginError(f"cannot import plugin {text!r}: {type(exc).__name__}: {_first_line(exc)}{where}") from None


def _import_file(path: str):
    if not os.path.isfile(path):
        raise PluginError(f"cannot import plugin {path!r}: no such file (give a module name or a .py file)")
    if not path.endswith(".py"):
        raise PluginError(f"cannot import plugin {path!r}: not a .py file")
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules and os.path.abspath(getattr(sys.modules[name], "__file__", "") or "") == os.path.abspath(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_plugins(plugins: Mapping[str, Any] | None) -> None:
    """Make plugin simulators and searchers available in this process
    (idempotent): ``pythonpath`` folders go first on ``sys.path``, ``imports``
    are imported, ``register`` (``{"simulators": {id: "module:Class"},
    "agents": {name: "module:Class"}}``) is registered.  Sweeps call this once
    in the driver and once in every worker, before anything is built."""
    if not plugins:
        return
    for p in plugins.get("pythonpath", ()):
        if p not in sys.path:
            sys.path.insert(0, p)
    for mod in plugins.get("imports", ()):
        import_plugin(mod)
    reg = plugins.get("register") or {}
    for sid, target in (reg.get("simulators") or {}).items():
        if sid not in list_simulators():
            register(sid, target)
    for name, target in (reg.get("agents") or {}).items():
        if name not in list_agents():
            register_agent(name, target)
