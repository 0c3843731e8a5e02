"""Version numbers: monotonic, race-safe, never reused; versions never change once sealed."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from pyml.registry import (
    ImmutableVersion,
    InvalidName,
    LocalStorage,
    Registry,
    RegistryError,
    VersionNotFound,
    parse_ref,
)
from tests.registry.homes import create_many, version_file

IMAGE = {"id": "sha256:abc", "digest": "sha256:abc", "tag": "pyml/scaler:1", "size_bytes": 10}


def test_versions_count_up_from_one(registry: Registry, df_home: Path) -> None:
    records = [registry.create_version("scaler", df_home) for _ in range(3)]
    assert [r.version for r in records] == [1, 2, 3]
    assert [r.ref for r in records] == ["scaler:1", "scaler:2", "scaler:3"]
    assert all(r.status == "building" for r in records)
    assert [r.version for r in registry.versions("scaler")] == [1, 2, 3]
    assert registry.names() == ["scaler"]


def test_parallel_processes_get_distinct_consecutive_versions(
    registry: Registry, registry_root: Path, df_home: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    results = context.Queue()
    workers = [
        context.Process(
            target=create_many, args=(str(registry_root), str(df_home), 5, start, results)
        )
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    got = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert sorted(v for versions in got for v in versions) == list(range(1, 21))
    assert all(versions == sorted(versions) for versions in got)  # monotonic per caller too
    assert [r.version for r in registry.versions("racer")] == list(range(1, 21))
    assert all(version_file(registry_root, "racer", v).is_file() for v in range(1, 21))


class _RivalFirst(LocalStorage):
    """Storage where a rival registers the same model just before our first claim lands."""

    def __init__(self, root: Path, rival_home: Path) -> None:
        super().__init__(root)
        self.rival_home: Path | None = rival_home

    def write_new(self, key: str, data: bytes) -> bool:
        if self.rival_home is not None and key.endswith("building.json"):
            home, self.rival_home = self.rival_home, None
            Registry(LocalStorage(self.root)).create_version("scaler", home, creator="rival")
        return super().write_new(key, data)


def test_a_lost_claim_is_retried_with_the_next_number(registry_root: Path, df_home: Path) -> None:
    registry = Registry(_RivalFirst(registry_root, df_home))
    mine = registry.create_version("scaler", df_home, creator="me")
    assert mine.version == 2
    assert [(r.version, r.creator) for r in registry.versions("scaler")] == [
        (1, "rival"),
        (2, "me"),
    ]


def test_ready_versions_never_change(
    registry: Registry, registry_root: Path, df_home: Path
) -> None:
    record = registry.create_version("scaler", df_home)
    ready = registry.mark_ready(record.ref, image=IMAGE, validation={"passed": True})
    assert ready.status == "ready" and ready.image == IMAGE and ready.finished_at
    manifest = version_file(registry_root, "scaler", 1, "manifest.json").read_bytes()
    with pytest.raises(ImmutableVersion, match=r"scaler:1 is already ready"):
        registry.mark_ready(record.ref, image=IMAGE, validation={"passed": True})
    with pytest.raises(ImmutableVersion, match=r"scaler:1 is already ready"):
        registry.mark_failed(record.ref, "too late", "")
    assert version_file(registry_root, "scaler", 1, "manifest.json").read_bytes() == manifest
    assert registry.get("scaler", 1) == ready


def test_a_failed_version_keeps_its_number(registry: Registry, df_home: Path) -> None:
    first = registry.create_version("scaler", df_home)
    failed = registry.mark_failed(first, "image build failed", "line\n" * 100_000)
    assert failed.failure is not None and failed.failure.reason == "image build failed"
    assert len(failed.failure.log_tail) <= 64 * 1024
    with pytest.raises(ImmutableVersion, match="already failed"):
        registry.mark_ready(first.ref, image=IMAGE, validation={})
    assert registry.create_version("scaler", df_home).version == 2
    assert [r.status for r in registry.versions("scaler")] == ["failed", "building"]


def test_get_without_version_is_the_newest_ready(registry: Registry, df_home: Path) -> None:
    for _ in range(3):
        registry.create_version("scaler", df_home)
    registry.mark_ready("scaler:2", image=IMAGE, validation={})
    registry.mark_failed("scaler:3", "boom")
    assert registry.get("scaler").version == 2
    assert registry.resolve("scaler:latest").version == 2
    assert registry.get("scaler", 3).status == "failed"


def test_mark_ready_needs_an_exact_version_and_a_full_image(
    registry: Registry, df_home: Path
) -> None:
    registry.create_version("scaler", df_home)
    with pytest.raises(InvalidName, match="name a version"):
        registry.mark_ready("scaler", image=IMAGE, validation={})
    with pytest.raises(RegistryError, match="expected keys id, digest, tag, size_bytes"):
        registry.mark_ready("scaler:1", image={"id": "x"}, validation={})
    assert registry.get("scaler", 1).status == "building"


def test_unknown_models_and_versions_list_what_exists(registry: Registry, df_home: Path) -> None:
    with pytest.raises(VersionNotFound, match=r"no model 'nope' .*\(models: none\)"):
        registry.get("nope")
    registry.create_version("scaler", df_home)
    registry.create_version("scaler", df_home)
    registry.mark_ready("scaler:1", image=IMAGE, validation={})
    registry.mark_failed("scaler:2", "boom")
    with pytest.raises(VersionNotFound, match=r"no model 'nope' .*\(models: scaler\)"):
        registry.get("nope", 1)
    with pytest.raises(
        VersionNotFound, match=r"model 'scaler' has no version 7 \(versions: 1 ready, 2 failed\)"
    ):
        registry.get("scaler", 7)
    registry.create_version("other", df_home)
    with pytest.raises(
        VersionNotFound, match=r"model 'other' has no ready version \(versions: 1 building\)"
    ):
        registry.get("other")


@pytest.mark.parametrize(
    "name", ["Scaler", "", "-x", "_x", "a" * 64, "a/b", "../x", "a b", "a:1", "été"]
)
def test_bad_names_are_refused_by_name(registry: Registry, df_home: Path, name: str) -> None:
    with pytest.raises(InvalidName, match=f"model name {name!r}"):
        registry.create_version(name, df_home)
    assert registry.names() == []


def test_good_names_and_refs() -> None:
    assert parse_ref("scaler") == ("scaler", None)
    assert parse_ref("a.b-c_9:12") == ("a.b-c_9", 12)
    assert parse_ref("x" * 63 + ":latest") == ("x" * 63, None)
    assert Registry.parse_ref("m:3") == ("m", 3)
    for ref in ["m:0", "m:-1", "m:x", "m:1.0", "M:1"]:
        with pytest.raises(InvalidName, match="expected"):
            parse_ref(ref)


def test_default_registry_lives_under_pyml_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, df_home: Path
) -> None:
    monkeypatch.setenv("PYML_HOME", str(tmp_path / "pyml-home"))
    Registry.default().create_version("scaler", df_home)
    assert version_file(tmp_path / "pyml-home" / "registry", "scaler", 1, "building.json").is_file()
