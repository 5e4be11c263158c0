"""``prompts.check``: a client asks whether a file is one ``call.play`` would play, with
no call to play it on (the dialer service checks its --hold-file this way at start). It
must agree with ``call.play`` on every path (confined to the prompts folder, red-team
defect 4; same codes), read the audio as call.play does, and change nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.errors import ErrorCode, RpcError
from trunkline.gateway.testing import VirtualGateway


def write_tone(path: Path, seconds: float = 1.0) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    soundfile.write(str(path), 0.3 * np.sin(2 * np.pi * 300 * t), 8000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[VirtualGateway, Path, Path, int]]:
    base = tmp_path_factory.mktemp("prompts-check")
    prompts, outside = base / "prompts", base / "outside"
    (prompts / "sub").mkdir(parents=True)
    outside.mkdir()
    write_tone(prompts / "hold.wav", 2.0)
    write_tone(prompts / "sub" / "short.wav", 0.5)
    write_tone(outside / "secret.wav")
    (prompts / "notes.wav").write_text("not audio at all\n")
    (prompts / "empty.wav").write_bytes(b"")
    (prompts / "out.wav").symlink_to(outside / "secret.wav")
    (prompts / "in.wav").symlink_to(prompts / "sub" / "short.wav")
    os.mkfifo(prompts / "pipe.wav")
    config = GatewayConfig(recordings_root=base / "rec", fax_spool=base / "spool",
                           prompts=prompts)
    with VirtualGateway(config, start=0.0) as gw:
        call = gw.call("call.originate", number="13800000001", group="fxo")["call"]
        yield gw, prompts, outside, call


def _outcome(gw: VirtualGateway, method: str, **params: object) -> tuple[str, str]:
    try:
        gw.call(method, **params)
    except RpcError as err:
        return err.code.wire_name, err.message
    return "ok", ""


def test_a_playable_file_is_confirmed_with_its_path_and_length(gateway) -> None:
    gw, prompts, _outside, _call = gateway
    got = gw.call("prompts.check", file="hold.wav")
    assert got == {"file": str((prompts / "hold.wav").resolve()), "seconds": 2.0}
    assert gw.call("prompts.check", file=str(prompts / "sub" / "short.wav"))["seconds"] \
        == 0.5
    # a link that stays inside is followed, as call.play follows it
    assert gw.call("prompts.check", file="in.wav")["file"] == \
        str((prompts / "sub" / "short.wav").resolve())


@pytest.mark.parametrize(("file", "code", "words"), [
    ("typo.wav", ErrorCode.NOT_FOUND, "prompts.check: file 'typo.wav': no such file in"),
    ("/etc/passwd", ErrorCode.INVALID_PARAMS, "lies outside the allowed folder"),
    ("../outside/secret.wav", ErrorCode.INVALID_PARAMS, "contains '..'"),
    ("out.wav", ErrorCode.INVALID_PARAMS, "lies outside the allowed folder"),
    ("pipe.wav", ErrorCode.INVALID_PARAMS, "is a FIFO, not a regular file"),
    ("sub", ErrorCode.INVALID_PARAMS, "is a folder, not a regular file"),
    ("notes.wav", ErrorCode.INVALID_PARAMS, "not a readable audio file"),
    ("empty.wav", ErrorCode.INVALID_PARAMS, "the file is empty"),
])
def test_what_call_play_would_refuse_is_refused_with_its_code(
        gateway, file: str, code: ErrorCode, words: str) -> None:
    gw, prompts, _outside, _call = gateway
    with pytest.raises(RpcError) as info:
        gw.call("prompts.check", file=file)
    assert info.value.code is code and words in info.value.message, info.value.message
    if code is ErrorCode.INVALID_PARAMS and "outside" in words:
        assert str(prompts) in info.value.message   # the folder it must lie in


NAMES = st.sampled_from(["hold.wav", "sub/short.wav", "in.wav", "out.wav", "pipe.wav",
                         "notes.wav", "empty.wav", "typo.wav", "sub", "..", "/etc/passwd",
                         "/dev/zero", "a\x00b.wav", "", "PROMPTS/hold.wav",
                         "OUTSIDE/secret.wav", "sub/../hold.wav"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_it_agrees_with_call_play_on_every_path(gateway, name: str) -> None:
    gw, prompts, outside, call = gateway
    file = name.replace("PROMPTS", str(prompts)).replace("OUTSIDE", str(outside))
    checked = _outcome(gw, "prompts.check", file=file)
    played = _outcome(gw, "call.play", call=call, file=file)
    assert checked[0] == played[0], (file, checked, played)
    # the same words, but for the method's name
    assert checked[1].replace("prompts.check", "call.play") == played[1]
    if played[0] == "ok":
        gw.call("call.stop_play", call=call)


def test_it_changes_nothing(gateway) -> None:
    gw, prompts, outside, _call = gateway

    def snapshot() -> list[tuple[str, int, int]]:
        return sorted((str(p), p.lstat().st_size, p.lstat().st_mtime_ns)
                      for folder in (prompts, outside) for p in folder.rglob("*"))

    before = snapshot()
    for name in ("hold.wav", "new/folder/x.wav", "typo.wav", "notes.wav", "out.wav"):
        _outcome(gw, "prompts.check", file=name)
    assert snapshot() == before
