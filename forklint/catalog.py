"""The knowledge base: what is a job, what is heavy, what is fork-unsafe; read from rules/catalog/*.toml."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from forklint.config import Config
from forklint.resources import rules_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class CatalogError(Exception):
    """The catalog (or a config extension of it) is inconsistent; the message says which entry."""


class Matcher:
    """Matches fully qualified dotted names against glob entries ("*" = any run of characters)."""

    def __init__(self, entries: list[tuple[str, str]]) -> None:
        self.entries = tuple(entries)  # (glob, label)
        self._exact: dict[str, str] = {}
        self._globs: list[tuple[re.Pattern[str], str]] = []
        for glob, label in entries:
            if "*" in glob:
                self._globs.append((_glob(glob), label))
            else:
                self._exact.setdefault(glob, label)
        self._cache: dict[str, str | None] = {}

    def __call__(self, name: str) -> str | None:
        """The label of the first entry that matches `name`, or None."""
        if not name:
            return None
        hit = self._cache.get(name, "")
        if hit != "":
            return hit
        label = self._exact.get(name)
        if label is None:
            for pattern, glob_label in self._globs:
                if pattern.match(name):
                    label = glob_label
                    break
        if len(self._cache) > 50000:
            self._cache.clear()
        self._cache[name] = label
        return label

    def names(self) -> tuple[str, ...]:
        return tuple(glob for glob, _ in self.entries)


@dataclass(frozen=True)
class EnqueueForm:
    position: int  # positional index of the function argument
    keywords: tuple[str, ...]  # keywords that may hold it


class Catalog:
    def __init__(self, data: dict[str, dict[str, Any]], config: Config | None = None) -> None:
        jobs, heavy, unsafe, orm = data["jobs"], data["heavy"], data["fork_unsafe"], data["orm"]
        extra = config or Config()

        self.job_decorator = Matcher(
            [(n, d["framework"]) for d in jobs["decorators"] for n in d["names"]]
            + [(_dotted(n), "rq") for n in extra.job_decorators]
        )
        enqueue: list[tuple[str, str]] = []
        self._enqueue_forms: dict[str, EnqueueForm] = {}
        for i, form in enumerate(jobs["enqueue"]):
            key = str(i)
            self._enqueue_forms[key] = EnqueueForm(form["position"], tuple(form["keywords"]))
            enqueue += [(n, key) for n in form["names"]]
        self.enqueue = Matcher(enqueue)
        # the last name of every call that may enqueue: tested before a call is resolved
        self.enqueue_names = frozenset(n.rpartition(".")[2] for n, _ in enqueue) | frozenset(
            jobs["enqueue-methods"]["names"]
        )
        self.enqueue_methods = frozenset(jobs["enqueue-methods"]["names"])
        self.enqueue_second = frozenset(jobs["enqueue-methods"]["at-position-1"])
        self.callback_keywords = frozenset(jobs["callbacks"]["keywords"])
        self.task_classes = frozenset(jobs["task-classes"]["names"])
        workers = jobs["workers"]
        self.worker_kind = Matcher(
            [
                (n, kind)
                for kind in ("prefork", "simple", "spawn", "pool", "forking")
                for n in workers[kind]
            ]
        )
        self.start_methods = frozenset(workers["start-methods"])
        self.cli_workers = frozenset(workers["cli-workers"])
        self.cli_mains = frozenset(workers["cli-mains"])
        self.cli_entries = self.cli_workers | self.cli_mains  # RQ's CLI called in-process
        self.worker_factories = frozenset(workers["worker-factories"])
        self.parent_methods = frozenset(workers["parent-methods"])
        self.rq_settings_names = frozenset(workers["settings-names"])
        self.horse_methods = frozenset(workers["horse-methods"])
        self.deferred_construction = Matcher(
            [(n, "deferred") for n in jobs["construction"]["deferred"]]
        )
        celery = jobs["celery"]
        self.celery_apps = frozenset(celery["apps"])
        self.celery_parent_signals = frozenset(celery["parent-signals"])
        self.celery_child_signals = frozenset(celery["child-signals"])

        self.heavy_module_names = tuple(heavy["modules"]) + tuple(extra.heavy_modules)
        self._heavy_modules = frozenset(self.heavy_module_names)
        self.writes = Matcher([(n, "writes") for n in heavy.get("writes", [])])
        self.fetches = Matcher([(n, "fetches") for n in heavy.get("fetches", [])])
        self.dynamic_import = Matcher(
            [(n, c["what"]) for c in heavy["calls"] if c.get("dynamic") for n in c["names"]]
        )
        self.once_per_process = Matcher(
            [
                (n, c["what"])
                for c in heavy["calls"]
                if c.get("once-per-process")
                for n in c["names"]
            ]
        )
        self.settled_in_parent = Matcher(
            [
                (n, c["what"])
                for c in heavy["calls"]
                if c.get("settled-in-parent")
                for n in c["names"]
            ]
        )
        self.heavy_call = Matcher(
            [(n, c["what"]) for c in heavy["calls"] for n in c["names"]]
            + [(_dotted(n), "does heavy work") for n in extra.heavy_calls]
        )
        self.fork_unsafe = Matcher(
            [(n, c["what"]) for c in unsafe["clients"] for n in c["names"]]
            + [(_dotted(n), "fork-unsafe client") for n in extra.fork_unsafe_calls]
        )
        self.thread_start = Matcher([(n, c["what"]) for c in unsafe["threads"] for n in c["names"]])
        # name -> ("connect", "False"): built with that keyword, the client opens nothing yet
        self.lazy_with = {
            n: tuple(c["lazy-with"].split("=", 1))
            for c in unsafe["clients"]
            if "lazy-with" in c
            for n in c["names"]
        }

        self.declarative_bases = frozenset(orm["declarative-bases"])
        self.base_factory = Matcher([(n, "base") for n in orm["base-factories"]])
        self.mapping_decorators = frozenset(orm["mapping-decorators"])
        self.table_bases = frozenset(orm["table-bases"])
        self.configure = Matcher([(n, "configure") for n in orm["configure"]])
        self.engine_connect = Matcher([(n, "connect") for n in orm["engine-connects"]])
        self.session = Matcher([(n, "session") for n in orm["sessions"]])
        self.session_queries = frozenset(orm["session-queries"])
        self.class_queries = frozenset(orm["class-queries"])
        self.entity_statement = Matcher([(n, "statement") for n in orm["entity-statements"]])
        self.entity_session_methods = frozenset(orm["entity-session-methods"])
        self.mapper_inspector = Matcher([(n, "inspects") for n in orm["mapper-inspectors"]])
        self.django_models = frozenset(orm["django-models"])
        self.django_managers = frozenset(orm["django-managers"])
        self.django_evaluating = frozenset(orm["django-evaluating"])
        self.django_lazy = frozenset(orm["django-lazy"])
        self.query_evaluating = frozenset(orm["query-evaluating"])
        self.query_lazy = frozenset(orm["query-lazy"])
        self.evaluating_builtins = frozenset(orm["evaluating-builtins"])
        self.dispose = Matcher([(n, "dispose") for n in orm["disposes"]])
        self.engine_factory = Matcher([(n, "engine") for n in orm["engine-factories"]])
        self.after_fork_hooks = frozenset(orm["after-fork-hooks"])

        for name in self.heavy_call.names():
            if self.fork_unsafe(name) or self.thread_start(name):
                raise CatalogError(
                    f"{name!r} is listed as both heavy and fork-unsafe; a call is one or the other"
                )
        for name in self.fork_unsafe.names():
            if self.heavy_call(name):
                raise CatalogError(
                    f"{name!r} is listed as both fork-unsafe and heavy; a call is one or the other"
                )

    def enqueue_form(self, fq: str) -> EnqueueForm | None:
        key = self.enqueue(fq)
        return self._enqueue_forms[key] if key is not None else None

    def heavy_module(self, module: str) -> str | None:
        """The catalog entry that makes `module` heavy ("sqlalchemy" for "sqlalchemy.orm")."""
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix in self._heavy_modules:
                return prefix
        return None

    def session_prefix(self, fq: str) -> str | None:
        """The session `fq` is a call chain on ("sqlalchemy.orm.Session()" in
        "sqlalchemy.orm.Session().query().all"), or None."""
        end = len(fq)
        while end > 0:
            end = fq.rfind(".", 0, end)
            if end <= 0:
                return None
            if self.session(fq[:end]) is not None:
                return fq[:end]
        return None


def _glob(glob: str) -> re.Pattern[str]:
    """A leading "*" matches anything ("*.dispose"); any other "*" stays within one call
    ("pandas.read_*" matches "pandas.read_csv", not "pandas.read_csv().head")."""
    parts = glob.split("*")
    head = ".*" if glob.startswith("*") else re.escape(parts[0])
    rest = parts[1:]
    return re.compile(head + "".join(r"[^()]*" + re.escape(p) for p in rest) + r"\Z")


def _dotted(name: str) -> str:
    return name.replace(":", ".")


@lru_cache(maxsize=4)
def _load_data(directory: Path) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = {}
    for name in ("jobs", "heavy", "fork_unsafe", "orm"):
        path = directory / "catalog" / f"{name}.toml"
        try:
            data[name] = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CatalogError(f"{path}: cannot read the catalog ({exc})") from None
    return data


def load_catalog(config: Config | None = None) -> Catalog:
    """The shipped catalog, extended by `[tool.forklint]` heavy-calls/heavy-modules/job-decorators/fork-unsafe-calls."""
    return Catalog(_load_data(rules_dir()), config)
