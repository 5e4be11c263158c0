"""Client-given paths are confined to their folders (gateway/paths.py; issue 15,
red-team 4): relative paths are taken in the folder, ``..``, NUL bytes, links that lead
out, devices and FIFOs are refused, by every method that takes a path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig, config_from_string
from trunkline.gateway.paths import NoSuchFile, PathRefused, PathRoot
from trunkline.gateway.rpc.errors import ErrorCode, RpcError
from trunkline.gateway.testing import VirtualGateway


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A root with a sub-folder, a link inside, a link out, a link loop and a FIFO; and
    a folder outside it holding a secret."""
    base = tmp_path_factory.mktemp("paths")
    root, outside = base / "root", base / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.wav").write_bytes(b"secret")
    (root / "sub" / "a.wav").write_bytes(b"inside")
    (root / "in").symlink_to(root / "sub")
    (root / "out").symlink_to(outside)
    (root / "secret.wav").symlink_to(outside / "secret.wav")
    (root / "loop").symlink_to(root / "loop")
    os.mkfifo(root / "fifo")
    return root, outside


SEGMENTS = st.sampled_from(["a.wav", "sub", "in", "out", "loop", "..", ".", "",
                            "secret.wav", "fifo", "x\x00y", "é", "...", "~"])


def _within(path: Path, root: Path) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from(["", "/", "ROOT/", "OUT/", "/etc/"]),
       segments=st.lists(SEGMENTS, max_size=6))
def test_a_path_is_refused_or_resolves_inside_its_root(tree: tuple[Path, Path], prefix: str,
                                                       segments: list[str]) -> None:
    root, outside = tree
    value = prefix.replace("ROOT", str(root)).replace("OUT", str(outside)) + "/".join(segments)
    place = PathRoot("recordings", root)
    for use in (place.resolve, place.file_to_write, place.file_to_read, place.folder):
        try:
            real = use(value, method="m", param="p")
        except PathRefused as err:
            assert "m: p " in str(err) and str(root) in str(err)
            assert err.param == "p" and err.root == root
            continue
        except NoSuchFile as err:
            assert use.__name__ == "file_to_read" and str(root) in str(err)
            continue
        # Whatever was accepted lies inside, has no link left in it, and had no '..'.
        assert _within(real, root) and os.path.realpath(real) == str(real)
        assert ".." not in Path(value).parts and "\x00" not in value
        if use.__name__ == "file_to_read":
            assert real.is_file() and not real.is_symlink()


@settings(deadline=None)
@given(st.text(max_size=40))
def test_any_string_is_refused_or_confined(text: str) -> None:
    root = Path("/nonexistent-trunkline-root/recordings")
    try:
        real = PathRoot("recordings", root).resolve(text, method="m", param="p")
    except PathRefused:
        return
    assert _within(real, root)


def test_the_checks_name_what_is_wrong(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    place = PathRoot("prompts", root)

    def refused(value: str, fn=place.file_to_read) -> str:
        with pytest.raises(PathRefused) as info:
            fn(value, method="call.play", param="file")
        return str(info.value)

    assert "contains '..'" in refused("sub/../a.wav")
    assert "contains a NUL byte" in refused("a\x00.wav")
    assert "is a FIFO" in refused("fifo")
    assert "is a folder" in refused("sub")
    assert "lies outside" in refused("secret.wav")            # a link out
    assert "lies outside" in refused("out/secret.wav")        # through a linked folder
    assert "lies outside" in refused("/dev/zero")
    # Outside the root, existing or not, the words are the same: no probing the host.
    assert refused(str(outside / "secret.wav")).replace("secret", "nosuch") == \
        refused(str(outside / "nosuch.wav"))
    message = refused("/etc/passwd")
    assert message.startswith("call.play: file '/etc/passwd' lies outside")
    assert f"prompts must lie in {root}" in message
    # Inside, links that stay inside are followed; a relative path is taken in the root.
    assert place.file_to_read("in/a.wav", method="m", param="p") == \
        Path(os.path.realpath(root / "sub" / "a.wav"))
    assert place.file_to_read(str(root / "sub" / "a.wav"), method="m", param="p").is_file()
    with pytest.raises(NoSuchFile, match="no such file in"):
        place.file_to_read("sub/none.wav", method="m", param="p")


# -- through the methods -----------------------------------------------------------------

@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[VirtualGateway, Path, Path]]:
    roots = tmp_path / "roots"
    outside = tmp_path / "outside"
    outside.mkdir()
    config = GatewayConfig(recordings_root=roots / "recordings", fax_spool=roots / "spool",
                           fax_documents=roots / "documents", prompts=roots / "prompts")
    for folder in ("recordings", "documents", "prompts"):
        (roots / folder).mkdir(parents=True)
    with VirtualGateway(config, start=0.0) as gw:
        yield gw, roots, outside


def _refused(gw: VirtualGateway, method: str, **params) -> RpcError:
    with pytest.raises(RpcError) as info:
        gw.call(method, **params)
    return info.value


def test_call_record_never_writes_outside_the_recordings_folder(gateway) -> None:
    gw, roots, outside = gateway
    target = outside / "victim.txt"
    target.write_text("keep me")
    call = gw.call("call.originate", number="13800000001", group="fxo")["call"]
    for path in ("../../outside/victim.txt", str(target), "a\x00b.wav"):
        err = _refused(gw, "call.record", call=call, action="start", path=path)
        assert err.code is ErrorCode.INVALID_PARAMS
        assert "call.record: path" in err.message and str(roots / "recordings") in err.message
    # A real link planted in the folder, to a file outside: refused, the file untouched.
    (roots / "recordings" / "evil.wav").symlink_to(target)
    err = _refused(gw, "call.record", call=call, action="start", path="evil.wav")
    assert "lies outside" in err.message
    # A planted .part link is never followed (O_NOFOLLOW | O_EXCL).
    (roots / "recordings" / "good.wav.part").symlink_to(target)
    err = _refused(gw, "call.record", call=call, action="start", path="good.wav")
    assert "cannot record here" in err.message
    assert target.read_text() == "keep me"
    # Inside the folder, a relative name records there, and is indexed there only.
    started = gw.call("call.record", call=call, action="start", path="day/ok.wav")
    assert started["recording"] == str((roots / "recordings" / "day" / "ok.wav").resolve())
    gw.call("call.record", call=call, action="stop")
    paths = [row["path"] for row in gw.service.recordings.index.all()]
    assert paths == [started["recording"]]
    gw.call("call.hangup", call=call)


def test_call_play_reads_only_prompts(gateway) -> None:
    gw, roots, _outside = gateway
    call = gw.call("call.originate", number="13800000001", group="fxo")["call"]
    os.mkfifo(roots / "prompts" / "pipe.wav")
    (roots / "prompts" / "zero.wav").symlink_to("/dev/zero")
    assert _refused(gw, "call.play", call=call, file="/etc/passwd").code is \
        ErrorCode.INVALID_PARAMS
    assert "is a FIFO" in _refused(gw, "call.play", call=call, file="pipe.wav").message
    assert "lies outside" in _refused(gw, "call.play", call=call, file="zero.wav").message
    missing = _refused(gw, "call.play", call=call, file="none.wav")
    assert missing.code is ErrorCode.NOT_FOUND and "call.play: file" in missing.message
    gw.call("call.hangup", call=call)


def test_fax_methods_read_and_write_only_fax_documents(gateway) -> None:
    gw, roots, outside = gateway
    err = _refused(gw, "fax.send", number="01050000002", files=["/etc/passwd"])
    assert err.code is ErrorCode.INVALID_PARAMS and "fax.send: files[0]" in err.message
    assert str(roots / "documents") in err.message
    err = _refused(gw, "fax.broadcast", numbers=["1"], files=["../x.pdf"])
    assert "fax.broadcast: files[0]" in err.message
    err = _refused(gw, "fax.route_add", name="r", dnis="8*", folder=str(outside))
    assert "fax.route_add: folder" in err.message
    err = _refused(gw, "fax.route_add", name="r", dnis="8*", documents={"1": "/etc/hosts"})
    assert "fax.route_add: documents.1" in err.message
    # No folder is made for a call that does not exist, even inside the root.
    err = _refused(gw, "call.fax_receive", call=999, path="made/x.tif")
    assert err.code is ErrorCode.NOT_FOUND and not (roots / "documents" / "made").exists()
    call = gw.call("call.originate", number="13800000001", group="fxo")["call"]
    err = _refused(gw, "call.fax_receive", call=call, path=str(outside / "x.tif"))
    assert "call.fax_receive: path" in err.message and not (outside / "x.tif").exists()
    gw.call("call.hangup", call=call)


def test_the_folders_are_configured(tmp_path: Path) -> None:
    cfg = config_from_string('[fax]\ndocuments = "/srv/fax"\n[media]\nprompts = "/srv/p"\n')
    assert cfg.fax_documents == Path("/srv/fax") and cfg.prompts == Path("/srv/p")
    with pytest.raises(ConfigError, match="prompts must be a path"):
        config_from_string("[media]\nprompts = 5\n")
    with pytest.raises(ConfigError, match="unknown"):
        config_from_string('[media]\nprompt = "x"\n')
