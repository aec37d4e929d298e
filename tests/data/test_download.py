"""download_gtzan / fetch / safe_extract against archives built here, served from file:// URLs."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from keras_musiclatent.data import download_gtzan, fetch, load_gtzan, safe_extract
from keras_musiclatent.data import gtzan as gtzan_module
from keras_musiclatent.errors import DatasetError

GENRES = ("blues", "classical", "country", "disco", "hiphop",
          "jazz", "metal", "pop", "reggae", "rock")  # fmt: skip


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def archive(tmp_path, write_audio) -> Path:
    """A GTZAN-shaped genres.tar.gz: genres/<genre>/<genre>.0000N.wav, 2 clips per genre."""
    src = tmp_path / "src"
    for g in GENRES:
        for i in range(2):
            write_audio(src / "genres" / g / f"{g}.{i:05d}.wav", 0.1, seed=i)
    (src / "genres" / "bextract_single.mf").write_text("collection file\n")
    path = tmp_path / "served" / "genres.tar.gz"
    path.parent.mkdir()
    with tarfile.open(path, "w:gz") as tar:
        tar.add(src / "genres", arcname="genres")
    return path


def _evil_tar(path: Path, member: tarfile.TarInfo, payload: bytes = b"boom") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("genres/blues/blues.00000.wav")
        ok.size = 4
        tar.addfile(ok, io.BytesIO(b"RIFF"))
        if member.isfile():
            member.size = len(payload)
            tar.addfile(member, io.BytesIO(payload))
        else:
            tar.addfile(member)
    return path


def test_download_verify_extract_and_load(tmp_path, archive):
    root = tmp_path / "data"
    out = download_gtzan(root, url=archive.as_uri(), sha256=_sha256(archive))
    assert out == root.resolve() / "genres"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == list(GENRES)
    assert not (root / "genres.tar.gz").exists()  # archive removed by default
    assert [p.name for p in root.iterdir()] == ["genres"]  # no staging folder left
    table = load_gtzan(root, split_seed=0)
    assert len(table) == 20 and table.labels == list(GENRES)


def test_existing_collection_is_not_downloaded_again(tmp_path, archive, monkeypatch):
    root = tmp_path / "data"
    download_gtzan(root, url=archive.as_uri(), sha256=_sha256(archive))

    def no_fetch(*args, **kwargs):
        raise AssertionError("must not download when the genre folders exist")

    monkeypatch.setattr(gtzan_module, "fetch", no_fetch)
    assert download_gtzan(root) == root / "genres"


def test_force_reuses_a_kept_archive(tmp_path, archive):
    root = tmp_path / "data"
    sha = _sha256(archive)
    download_gtzan(root, url=archive.as_uri(), sha256=sha, keep_archive=True)
    assert (root / "genres.tar.gz").is_file()
    victim = root / "genres" / "rock" / "rock.00001.wav"
    victim.unlink()
    (root / "genres" / "rock" / "stray.txt").write_text("x")
    # The URL no longer works: only the kept, verified archive can restore the file.
    download_gtzan(root, url=(tmp_path / "gone.tar.gz").as_uri(), sha256=sha, force=True)
    assert victim.is_file()
    assert not (root / "genres" / "rock" / "stray.txt").exists()


def test_wrong_checksum_is_refused_and_deleted(tmp_path, archive):
    root = tmp_path / "data"
    wrong = "0" * 64
    with pytest.raises(DatasetError, match=rf"checksum mismatch: expected sha256 {wrong}, got "):
        download_gtzan(root, url=archive.as_uri(), sha256=wrong)
    assert not (root / "genres.tar.gz").exists()
    assert not (root / "genres").exists()


def test_unreachable_url(tmp_path):
    url = (tmp_path / "nope.tar.gz").as_uri()
    with pytest.raises(DatasetError, match=r"nope\.tar\.gz: download failed"):
        fetch(url, tmp_path / "data", fname="nope.tar.gz", sha256="0" * 64)


def test_root_that_is_a_file(tmp_path, archive):
    root = tmp_path / "file"
    root.write_text("x")
    with pytest.raises(DatasetError, match="not a folder"):
        download_gtzan(root, url=archive.as_uri(), sha256=_sha256(archive))


def _symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def _hardlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE
    info.linkname = target
    return info


def _device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (tarfile.TarInfo("../evil.wav"), "member escaping the folder '../evil.wav'"),
        (tarfile.TarInfo("genres/../../evil.wav"), "member escaping the folder"),
        (tarfile.TarInfo("/tmp/evil.wav"), "absolute member path '/tmp/evil.wav'"),
        (_symlink("genres/link", "../../evil.wav"), "link member 'genres/link'"),
        (_hardlink("genres/hard", "/etc/passwd"), "link member 'genres/hard'"),
        (_device("genres/dev"), "special member 'genres/dev'"),
    ],
)
def test_malicious_archive_is_refused_whole(tmp_path, member, message):
    evil = _evil_tar(tmp_path / "served" / "genres.tar.gz", member)
    root = tmp_path / "deep" / "data"
    with pytest.raises(DatasetError, match=rf"genres\.tar\.gz: refusing archive with {message}"):
        download_gtzan(root, url=evil.as_uri(), sha256=_sha256(evil))
    # Nothing was unpacked: not the traversal target, not even the harmless member.
    assert not (tmp_path / "deep" / "evil.wav").exists()
    assert not (tmp_path / "evil.wav").exists()
    assert not (root / "genres").exists()
    assert list(root.iterdir()) == []  # the refused archive is not kept either


def test_safe_extract_zip(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("genres/blues/blues.00000.wav", b"RIFF")
    assert safe_extract(good, tmp_path / "out") == [tmp_path / "out" / "genres"]
    assert (tmp_path / "out" / "genres" / "blues" / "blues.00000.wav").read_bytes() == b"RIFF"
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../evil.wav", b"boom")
    with pytest.raises(DatasetError, match=r"escaping the folder '\.\./evil\.wav'"):
        safe_extract(bad, tmp_path / "out2")
    assert not (tmp_path / "evil.wav").exists()


def test_not_an_archive(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"definitely not an archive")
    with pytest.raises(DatasetError, match=r"junk\.tar\.gz: not a tar or zip archive"):
        safe_extract(junk, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == []
