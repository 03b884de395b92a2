"""Upload throughput and server memory for a 1 GiB video through a real `tiktimer serve`.

Protocol: one server process (SQLite, local storage) pinned to core 0, the client pinned to
core 1. The file is a valid H.264 MP4 of the requested size, made quickly: a second of
all-intra, lossless 720p noise is encoded once, and its packets are muxed again and again
with new timestamps (stream copy, no re-encoding), so the server really probes a playable
video and accepts it. Scenarios, each on a fresh file name:

- `POST /api/v1/media` with curl (`-F file=@…`): stream, hash, probe, fsync, rename, record;
- resumable: `POST /api/v1/media/uploads`, PATCH in 64 MiB chunks (httpx), `complete`;
- with `--random`, the same size of random bytes: the whole streaming path, ending in 422.

For each: wall time and throughput seen by the client, and the server's peak RSS growth
(VmHWM from /proc/<pid>/status; the high-water mark is reset to the current RSS through
/proc/<pid>/clear_refs just before the upload, so growth is the upload's own). The baseline
is `cp` of the same file on the same disk, with and without an fsync (the server fsyncs).

    python bench/upload.py                    # 1 GiB
    python bench/upload.py --size-mib 256 --random
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.server import clean_env, free_port, tiktimer_command  # noqa: E402

MiB = 1024 * 1024
PASSWORD = "correct horse battery"
FPS = 30
CHUNK = 64 * MiB


def make_video(path: Path, size: int, width: int = 1280, height: int = 720) -> float:
    """A valid MP4 of about `size` bytes; returns seconds spent making it."""
    started = time.monotonic()
    with av.open(str(path), "w", format="mp4") as out:
        stream: Any = out.add_stream(
            "libx264",
            rate=FPS,
            options={"preset": "ultrafast", "qp": "0", "x264-params": "keyint=1:scenecut=0"},
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        packets: list[bytes] = []
        for index in range(FPS):
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts = index
            packets += [bytes(packet) for packet in stream.encode(frame)]
        packets += [bytes(packet) for packet in stream.encode(None)]
        written, index = 0, 0
        while written < size:
            packet = av.Packet(packets[index % len(packets)])
            packet.pts = packet.dts = index
            packet.time_base = Fraction(1, FPS)
            packet.stream = stream
            packet.is_keyframe = True
            out.mux(packet)
            written += packet.size
            index += 1
    return time.monotonic() - started


@contextmanager
def server(workdir: Path, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    log = (workdir / "server.log").open("wb")
    command = ["taskset", "-c", "0", *tiktimer_command(), "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError((workdir / "server.log").read_text())
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M)}


def reset_peak(pid: int) -> bool:
    """Make VmHWM equal the current RSS (Linux 4.0+; our own process)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def login(base: str) -> dict[str, str]:
    user = {"username": "bench", "email": "bench@example.com", "password": PASSWORD}
    httpx.post(f"{base}/register", json=user).raise_for_status()
    form = {"username": "bench", "password": PASSWORD}
    token = httpx.post(f"{base}/token", data=form).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def curl_upload(base: str, auth: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    out = path.with_suffix(".response.json")
    command = ["taskset", "-c", "1", "curl", "-sS", "-o", str(out), "-w", "%{http_code}"]
    command += ["-H", f"Authorization: {auth['Authorization']}", "-F", f"file=@{path}"]
    code = subprocess.run(
        [*command, f"{base}/api/v1/media"], capture_output=True, text=True, check=True
    ).stdout
    return int(code), json.loads(out.read_text())


def resumable_upload(base: str, auth: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    os.sched_setaffinity(0, {1})
    size = path.stat().st_size
    with httpx.Client(base_url=base, headers=auth, timeout=600) as client:
        created = client.post("/api/v1/media/uploads", headers={"Upload-Length": str(size)})
        upload_id = created.json()["upload_id"]
        with path.open("rb") as f:
            for offset in range(0, size, CHUNK):
                body = _chunk(f, min(CHUNK, size - offset))
                headers = {
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": str(offset),
                    "Content-Length": str(min(CHUNK, size - offset)),
                }
                response = client.patch(
                    f"/api/v1/media/uploads/{upload_id}", content=body, headers=headers
                )
                response.raise_for_status()
        done = client.post(f"/api/v1/media/uploads/{upload_id}/complete")
    return done.status_code, done.json()


def _chunk(f: Any, length: int) -> Iterator[bytes]:
    while length > 0:
        block = f.read(min(MiB, length))
        length -= len(block)
        yield block


def timed_upload(
    label: str, pid: int, upload: Any, base: str, auth: dict[str, str], path: Path
) -> dict[str, Any]:
    size = path.stat().st_size
    before = memory_kib(pid)
    reset = reset_peak(pid)
    baseline = memory_kib(pid)["VmHWM"]
    started = time.monotonic()
    status, body = upload(base, auth, path)
    elapsed = time.monotonic() - started
    after = memory_kib(pid)
    growth = after["VmHWM"] - (baseline if reset else before["VmHWM"])
    result = {
        "scenario": label,
        "status": status,
        "seconds": round(elapsed, 2),
        "MiB/s": round(size / MiB / elapsed, 1),
        "rss_before_MiB": round(before["VmRSS"] / 1024, 1),
        "peak_growth_MiB": round(growth / 1024, 1),
        "hwm_reset": reset,
        "verdict": body.get("verdict"),
        "detail": body.get("detail"),
    }
    print(json.dumps(result))
    return result


def copy_speed(path: Path, fsync: bool) -> float:
    target = path.with_suffix(".copy")
    started = time.monotonic()
    subprocess.run(["cp", str(path), str(target)], check=True)
    if fsync:
        subprocess.run(["sync", str(target)], check=True)
    elapsed = time.monotonic() - started
    target.unlink()
    return path.stat().st_size / MiB / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--random", action="store_true", help="also upload random bytes (422)")
    args = parser.parse_args()
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="tiktimer-upload-bench-") as tmp:
        workdir = Path(tmp)
        video = workdir / "video.mp4"
        print(f"making a {args.size_mib} MiB MP4: {make_video(video, size):.1f} s")
        env = clean_env(
            SECRET_KEY="b" * 40,
            TIKTIMER_DATA_DIR=str(workdir / "data"),
            TIKTIMER_LOG_LEVEL="WARNING",
        )
        with server(workdir, env) as (base, pid):
            auth = login(base)
            warm = workdir / "warm.mp4"
            make_video(warm, MiB)
            curl_upload(base, auth, warm)  # imports, thread pools, first probe
            timed_upload("POST /api/v1/media (curl)", pid, curl_upload, base, auth, video)
            other = workdir / "video-2.mp4"  # other bytes, or dedupe would skip the work
            shutil.copyfile(video, other)
            _append_free_box(other)
            label = "resumable, 64 MiB PATCHes (httpx)"
            timed_upload(label, pid, resumable_upload, base, auth, other)
            other.unlink()
            if args.random:
                noise = workdir / "noise.bin"
                _random_file(noise, size)
                timed_upload("random bytes -> 422 (curl)", pid, curl_upload, base, auth, noise)
                noise.unlink()
        for fsync in (False, True):
            label = "cp + sync" if fsync else "cp"
            print(json.dumps({"scenario": label, "MiB/s": round(copy_speed(video, fsync), 1)}))


def _append_free_box(path: Path) -> None:
    """Change the bytes (so no dedupe) without breaking the MP4: pad with a `free` box."""
    with path.open("ab") as f:
        f.write((16).to_bytes(4, "big") + b"free" + os.urandom(8))


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))


if __name__ == "__main__":
    main()
