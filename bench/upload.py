"""Upload throughput and server memory for a 1 GiB video through a real `tiktimer serve`.

One server process (SQLite, local storage in the same temporary directory as the file, so
on the same disk). The file is a valid H.264 MP4 of the requested size, made in seconds: a
second of all-intra lossless 720p noise is encoded once and its packets are muxed again and
again with new timestamps (stream copy, no re-encoding), so the server really probes a
playable video and accepts it. Each run appends a small `free` box first, so the bytes are
new and dedupe does not skip the work. Scenarios:

- `POST /api/v1/media` with curl (`-F file=@…`): stream, hash, probe, fsync, rename, record;
- resumable: `POST /api/v1/media/uploads`, PATCH in 64 MiB chunks (httpx), `complete`;
- with `--random`, the same size of random bytes: the whole streaming path, ending in 422.

Per run: the client's throughput, the server's CPU time (all threads, user + system) and
its peak RSS growth (VmHWM from /proc/<pid>/status; the high-water mark is first reset to
the current RSS through /proc/<pid>/clear_refs, so the growth is the upload's own).

The floor, in the same run: a bare streaming ASGI sink on uvicorn (`bench/sink_app.py`,
pinned like the server) that reads the body as it arrives, hashes it with SHA-256 and writes
it to disk off the loop, then fsyncs; each of our scenarios has its sink twin (the same
curl, the same PATCHes), run back to back, in alternating order from one repetition to the
next. The summary prints our throughput as a ratio of the sink's (the median of the paired
runs; target >= 0.8) and our peak RSS growth (target < 64 MiB for 1 GiB).

Other baselines: `cp` of the same file on the same disk, without and with an fsync (the
server fsyncs before it answers), and a single-threaded user-space copy: read, SHA-256 and
write in 1 MiB blocks, then fsync.
Every run starts after `sync`, so earlier writeback is not billed to it; medians are shown.

With `--s3` the server stores media in S3 (moto on loopback, in this process): resumable
chunks then go into an S3 multipart upload as they arrive, and `complete` reads the file
back to probe it, so the peak RSS growth shows what a chunk costs in memory. `--chunk-mib`
sets the resumable chunk size (below 8 MiB, each chunk carries a tail to the next).

    python bench/upload.py                      # 1 GiB, 3 runs each
    python bench/upload.py --size-mib 256 --repeat 5 --random --pin
    python bench/upload.py --size-mib 256 --s3 --chunk-mib 5
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
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
#: Resumable chunk size, set from `--chunk-mib`.
CHUNK = {"bytes": 64 * MiB}
#: CPU pinning commands (empty: none), set from `--pin`.
PIN: dict[str, list[str]] = {"server": [], "client": []}


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
    command = [*PIN["server"], *tiktimer_command(), "serve", "--port", str(port)]
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


@contextmanager
def sink_server(workdir: Path) -> Iterator[tuple[str, int]]:
    """The bare streaming sink (bench/sink_app.py) on uvicorn, pinned like our server."""
    port = free_port()
    directory = workdir / "sink"
    directory.mkdir()
    env = dict(os.environ, SINK_DIR=str(directory))
    command = [*PIN["server"], sys.executable, "-m", "uvicorn", "sink_app:app"]
    command += ["--port", str(port), "--no-access-log", "--app-dir", str(ROOT / "bench")]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def s3_storage(env: dict[str, str], enabled: bool) -> Iterator[None]:
    """With `enabled`, a moto S3 server on loopback and a bucket; `env` points the server there."""
    if not enabled:
        yield
        return
    from moto.server import ThreadedMotoServer

    aws = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "NO_PROXY": "127.0.0.1"}
    os.environ.update(aws)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    httpx.put(f"{endpoint}/bench").raise_for_status()  # create the bucket
    env.update(aws, TIKTIMER_STORAGE="s3", TIKTIMER_S3_BUCKET="bench")
    env.update(TIKTIMER_S3_ENDPOINT_URL=endpoint, TIKTIMER_S3_REGION="us-east-1")
    try:
        yield
    finally:
        moto.stop()


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M)}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def curl_upload(
    base: str, auth: dict[str, str], path: Path, endpoint: str = "/api/v1/media"
) -> tuple[int, dict[str, Any]]:
    out = path.with_suffix(".response.json")
    command = [*PIN["client"], "curl", "-sS", "-o", str(out), "-w", "%{http_code}"]
    command += ["-H", f"Authorization: {auth['Authorization']}", "-F", f"file=@{path}"]
    code = subprocess.run(
        [*command, f"{base}{endpoint}"], capture_output=True, text=True, check=True
    ).stdout
    return int(code), json.loads(out.read_text())


def sink_curl(base: str, auth: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    """The same curl -F as ours, into the sink: it hashes and stores the raw body."""
    return curl_upload(f"{base}/sink/{os.urandom(8).hex()}", auth, path, endpoint="")


def sink_patches(base: str, auth: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    """The same PATCHes as our resumable upload, appended to one file of the sink."""
    if PIN["client"]:
        os.sched_setaffinity(0, {1})
    size, name = path.stat().st_size, os.urandom(8).hex()
    with httpx.Client(base_url=base, timeout=600) as client, path.open("rb") as f:
        for offset in range(0, size, CHUNK["bytes"]):
            length = min(CHUNK["bytes"], size - offset)
            headers = {"Content-Type": "application/offset+octet-stream"}
            headers["Content-Length"] = str(length)
            response = client.patch(f"/sink/{name}", content=_chunk(f, length), headers=headers)
            response.raise_for_status()
        done = client.post(f"/sink/{name}")  # the end of the upload: fsync, like complete
    return done.status_code, done.json()


def resumable_upload(base: str, auth: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    if PIN["client"]:
        os.sched_setaffinity(0, {1})
    size = path.stat().st_size
    with httpx.Client(base_url=base, headers=auth, timeout=600) as client:
        created = client.post("/api/v1/media/uploads", headers={"Upload-Length": str(size)})
        upload_id = created.json()["upload_id"]
        with path.open("rb") as f:
            chunk = CHUNK["bytes"]
            for offset in range(0, size, chunk):
                body = _chunk(f, min(chunk, size - offset))
                headers = {
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": str(offset),
                    "Content-Length": str(min(chunk, size - offset)),
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
    pid: int, upload: Any, base: str, auth: dict[str, str], path: Path
) -> dict[str, Any]:
    os.sync()  # start with no dirty pages, so writeback of earlier runs is not billed here
    size = path.stat().st_size
    before = memory_kib(pid)
    reset = reset_peak(pid)
    baseline = memory_kib(pid)["VmHWM"] if reset else before["VmHWM"]
    cpu, started = cpu_seconds(pid), time.monotonic()
    status, body = upload(base, auth, path)
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu
    growth = memory_kib(pid)["VmHWM"] - baseline
    if status in (200, 201):  # keep the disk from filling up across repetitions
        if "sha256" in body and "id" not in body:  # the sink's answer
            httpx.delete(f"{base}/sink/{body['name']}").raise_for_status()
        else:
            httpx.delete(f"{base}/api/v1/media/{body['id']}", headers=auth).raise_for_status()
    return {
        "status": status,
        "MiB/s": size / MiB / elapsed,
        "server_cpu_s_per_GiB": cpu * 1024 * MiB / size,
        "rss_MiB": before["VmRSS"] / 1024,
        "peak_growth_MiB": growth / 1024,
        "verdict_ok": (body.get("verdict") or {}).get("ok"),
    }


def copy_speed(path: Path, fsync: bool) -> float:
    target = path.with_suffix(".copy")
    os.sync()
    started = time.monotonic()
    subprocess.run(["cp", str(path), str(target)], check=True)
    if fsync:
        subprocess.run(["sync", str(target)], check=True)
    elapsed = time.monotonic() - started
    target.unlink()
    return path.stat().st_size / MiB / elapsed


def python_copy_speed(path: Path) -> float:
    """What any user-space receiver must at least do: read, SHA-256, write, fsync."""
    target = path.with_suffix(".copy")
    os.sync()
    started = time.monotonic()
    hasher = hashlib.sha256()
    with path.open("rb") as src, target.open("wb") as dst:
        while block := src.read(MiB):
            hasher.update(block)
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    elapsed = time.monotonic() - started
    target.unlink()
    return path.stat().st_size / MiB / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--pin", action="store_true", help="server on core 0, client on 1")
    parser.add_argument("--random", action="store_true", help="also upload random bytes (422)")
    parser.add_argument("--s3", action="store_true", help="media in S3 (moto on loopback)")
    parser.add_argument("--chunk-mib", type=int, default=64, help="resumable chunk size")
    args = parser.parse_args()
    CHUNK["bytes"] = args.chunk_mib * MiB
    if args.pin:
        PIN.update(server=["taskset", "-c", "0"], client=["taskset", "-c", "1"])
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="tiktimer-upload-bench-") as tmp:
        workdir = Path(tmp)
        video = workdir / "video.mp4"
        print(f"made a {args.size_mib} MiB H.264 MP4 in {make_video(video, size):.1f} s")
        noise = workdir / "noise.bin"
        if args.random:
            _random_file(noise, size)
        env = clean_env(
            SECRET_KEY="b" * 40,
            TIKTIMER_DATA_DIR=str(workdir / "data"),
            TIKTIMER_LOG_LEVEL="WARNING",
        )
        runs: dict[str, list[dict[str, Any]]] = {}
        with (
            s3_storage(env, args.s3),
            server(workdir, env) as ours,
            sink_server(workdir) as sink,
        ):
            auth = login(ours[0])
            warm = workdir / "warm.mp4"
            make_video(warm, MiB)
            curl_upload(ours[0], auth, warm)  # imports, thread pools, first probe
            for repetition in range(args.repeat):
                for label, upload, path, twin in _scenarios(video, noise, args.random):
                    # Ours and the sink back to back, one then the other going first.
                    pair = [(label, upload, ours)] + ([(*twin, sink)] if twin else [])
                    for name, send, (base, pid) in pair[:: -1 if repetition % 2 else 1]:
                        _append_free_box(video)  # new bytes each run, or dedupe skips the work
                        result = timed_upload(pid, send, base, auth, path)
                        runs.setdefault(name, []).append(result)
                        print(json.dumps({"scenario": name, **_rounded(result)}))
                _baselines(video, runs)
        _summary(runs)
        _against_the_sink(runs)


def _baselines(video: Path, runs: dict[str, list[dict[str, Any]]]) -> None:
    baselines = (
        ("cp", lambda: copy_speed(video, False)),
        ("cp + sync", lambda: copy_speed(video, True)),
        ("python read + sha256 + write + fsync", lambda: python_copy_speed(video)),
    )
    for label, measure in baselines:
        result = {"MiB/s": measure()}
        runs.setdefault(label, []).append(result)
        print(json.dumps({"scenario": label, **_rounded(result)}))


OURS_CURL = "POST /api/v1/media (curl -F)"
SINK_CURL = "sink: the same curl -F"
SINK_PATCHES = "sink: the same PATCHes"


def _scenarios(video: Path, noise: Path, random: bool) -> list[tuple[Any, ...]]:
    """(label, upload, file, the sink's twin: (label, upload) or None)."""
    resumable = f"resumable: {CHUNK['bytes'] // MiB} MiB PATCHes + complete"
    scenarios: list[tuple[Any, ...]] = [
        (OURS_CURL, curl_upload, video, (SINK_CURL, sink_curl)),
        (resumable, resumable_upload, video, (SINK_PATCHES, sink_patches)),
    ]
    if random:
        scenarios.append(("random bytes, ends in 422 (curl -F)", curl_upload, noise, None))
    return scenarios


def _against_the_sink(runs: dict[str, list[dict[str, Any]]]) -> None:
    """Ours / the sink's throughput, paired run by run (the median), and our memory."""
    print("\nvs the bare streaming sink (read, SHA-256, write, fsync; same run, paired):")
    resumable = next(label for label in runs if label.startswith("resumable:"))
    for ours, sink in ((OURS_CURL, SINK_CURL), (resumable, SINK_PATCHES)):
        ratios = [a["MiB/s"] / b["MiB/s"] for a, b in zip(runs[ours], runs[sink], strict=True)]
        peak = max(r["peak_growth_MiB"] for r in runs[ours])
        floor_peak = max(r["peak_growth_MiB"] for r in runs[sink])
        print(
            f"  {ours:48} {statistics.median(ratios):5.2f} of the sink (target >= 0.8); "
            f"peak RSS growth {peak:5.1f} MiB (target < 64; the sink's {floor_peak:5.1f})"
        )


def _rounded(result: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}


def _summary(runs: dict[str, list[dict[str, Any]]]) -> None:
    print("\nmedian of", len(next(iter(runs.values()))), "runs")
    for label, results in runs.items():
        speed = statistics.median(r["MiB/s"] for r in results)
        line = f"  {label:48} {speed:7.0f} MiB/s"
        if "peak_growth_MiB" in results[0]:
            peak = max(r["peak_growth_MiB"] for r in results)
            cpu = statistics.median(r["server_cpu_s_per_GiB"] for r in results)
            line += f"   peak RSS growth (max) {peak:5.1f} MiB   server CPU {cpu:4.2f} s/GiB"
        print(line)


def _append_free_box(path: Path) -> None:
    """Change the bytes without breaking the MP4: append a small `free` box."""
    with path.open("ab") as f:
        f.write((16).to_bytes(4, "big") + b"free" + os.urandom(8))


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))


if __name__ == "__main__":
    main()
