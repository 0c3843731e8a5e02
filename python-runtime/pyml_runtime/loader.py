"""Finds the model class in a home folder's `model.py` and makes an instance of it.

`model.py` is imported as a fresh module named ``model`` with the home folder first on
``sys.path``, so helper modules next to it import as top-level modules. Before the import, any
module cached under a name that the home folder provides (``helpers.py``, ``utils/``, ...) is
forgotten, so loading a second home in the same process never reuses the first one's helpers.

The model class is the one class *defined in* model.py (imported base classes do not count)
that derives from `pyml.DataFrameModel` or `pyml.TensorModel`. When model.py defines several,
abstract ones are skipped, and `class = "..."` in pyml.toml picks one.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pyml_runtime.config import ModelConfig, load_config
from pyml_runtime.contract import DataFrameModel, ModelKind, TensorModel
from pyml_runtime.errors import load_error

MODEL_FILE = "model.py"
MODULE_NAME = "model"
ModelClass = type[DataFrameModel] | type[TensorModel]


@dataclass(frozen=True)
class LoadedModel:
    instance: DataFrameModel | TensorModel
    cls: ModelClass
    kind: ModelKind
    name: str
    config: ModelConfig
    home: Path


def load_model(home: Path, name: str | None = None) -> LoadedModel:
    """Import model.py, pick its model class and call ``cls(home)`` with the absolute home.

    The model's name is `name` when given (its registered name: in an image the home folder
    is /opt/pyml/model, and errors must not say model 'model'), else pyml.toml's or the
    folder's.
    """
    home = Path(home).resolve()
    config = load_config(home)
    name = name or config.name or home.name
    cls = load_model_class(home, config)
    try:
        instance = cls(str(home))
    except Exception as exc:
        raise load_error(
            f"model '{name}': {cls.__name__}.__init__ raised {type(exc).__name__}: {exc}"
            f"{_model_line(exc, home / MODEL_FILE)}",
            exception_type=type(exc).__name__,
        ) from exc
    return LoadedModel(instance, cls, cls.kind, name, config, home)


def load_model_class(home: Path, config: ModelConfig | None = None) -> ModelClass:
    home = Path(home).resolve()
    config = config if config is not None else load_config(home)
    module = _import_model_module(home)
    return _pick_class(home / MODEL_FILE, _model_classes(module), config.class_name)


def _import_model_module(home: Path) -> ModuleType:
    path = home / MODEL_FILE
    if not path.is_file():
        raise load_error(f"no {MODEL_FILE} in {home} (expected: {path})")
    _forget_home_modules(home)
    if str(home) not in sys.path:
        sys.path.insert(0, str(home))
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise load_error(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before running it, as a normal import would: dataclasses and pickle need it.
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise load_error(
            f"{exc.filename or path}, line {exc.lineno}: syntax error: {exc.msg}",
            exception_type="SyntaxError",
        ) from exc
    except ImportError as exc:
        missing = f"module '{exc.name}'" if exc.name else "a name"
        hint = " (is it in requirements.txt?)" if isinstance(exc, ModuleNotFoundError) else ""
        raise load_error(
            f"{path}{_model_line(exc, path)}: cannot import {missing}: {exc}{hint}",
            exception_type=type(exc).__name__,
        ) from exc
    except Exception as exc:
        raise load_error(
            f"{path}{_model_line(exc, path)}: importing it raised {type(exc).__name__}: {exc}",
            exception_type=type(exc).__name__,
        ) from exc
    return module


def _forget_home_modules(home: Path) -> None:
    provided = {p.stem for p in home.glob("*.py")} | {
        p.parent.name for p in home.glob("*/__init__.py")
    }
    provided.add(MODULE_NAME)
    for name in list(sys.modules):
        if name.split(".", 1)[0] in provided:
            del sys.modules[name]


def _model_line(exc: BaseException, path: Path) -> str:
    """', line N' of the deepest frame in model.py that the exception went through."""
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if Path(frame.filename) == path
    ]
    return f", line {lines[-1]}" if lines else ""


def _model_classes(module: ModuleType) -> list[ModelClass]:
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and obj.__module__ == module.__name__
        and issubclass(obj, DataFrameModel | TensorModel)
    ]


def _pick_class(path: Path, found: list[ModelClass], wanted: str | None) -> ModelClass:
    names = ", ".join(cls.__name__ for cls in found)
    if wanted is not None:
        for cls in found:
            if cls.__name__ == wanted:
                return cls
        raise load_error(
            f"{path}: no model class '{wanted}' (pyml.toml 'class'; found: {names or 'none'})"
        )
    if not found:
        raise load_error(
            f"{path}: no model class (expected: one class deriving from "
            "pyml.DataFrameModel or pyml.TensorModel)"
        )
    concrete = [cls for cls in found if not inspect.isabstract(cls)]
    if len(found) > 1 and len(concrete) == 1:
        return concrete[0]
    if len(found) > 1:
        raise load_error(
            f"{path}: {len(found)} model classes ({names}); "
            'name one with class = "..." in pyml.toml'
        )
    return found[0]
