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

Baselines: `cp` of the same file on the same disk, without and with an fsync (the server
fsyncs before it answers), and the floor of a single-threaded user-space receiver: read,
SHA-256 and write in 1 MiB blocks, then fsync.
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


def curl_upload(base: str, auth: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    out = path.with_suffix(".response.json")
    command = [*PIN["client"], "curl", "-sS", "-o", str(out), "-w", "%{http_code}"]
    command += ["-H", f"Authorization: {auth['Authorization']}", "-F", f"file=@{path}"]
    code = subprocess.run(
        [*command, f"{base}/api/v1/media"], capture_output=True, text=True, check=True
    ).stdout
    return int(code), json.loads(out.read_text())


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
        with s3_storage(env, args.s3), server(workdir, env) as (base, pid):
            auth = login(base)
            warm = workdir / "warm.mp4"
            make_video(warm, MiB)
            curl_upload(base, auth, warm)  # imports, thread pools, first probe
            for _ in range(args.repeat):
                for label, upload, path in _scenarios(video, noise, args.random):
                    _append_free_box(video)  # new bytes each run, or dedupe skips the work
                    result = timed_upload(pid, upload, base, auth, path)
                    runs.setdefault(label, []).append(result)
                    print(json.dumps({"scenario": label, **_rounded(result)}))
                baselines = (
                    ("cp", lambda: copy_speed(video, False)),
                    ("cp + sync", lambda: copy_speed(video, True)),
                    ("python read + sha256 + write + fsync", lambda: python_copy_speed(video)),
                )
                for label, measure in baselines:
                    result = {"MiB/s": measure()}
                    runs.setdefault(label, []).append(result)
                    print(json.dumps({"scenario": label, **_rounded(result)}))
        _summary(runs)


def _scenarios(video: Path, noise: Path, random: bool) -> list[tuple[str, Any, Path]]:
    scenarios = [
        ("POST /api/v1/media (curl -F)", curl_upload, video),
        (f"resumable: {CHUNK['bytes'] // MiB} MiB PATCHes + complete", resumable_upload, video),
    ]
    if random:
        scenarios.append(("random bytes, ends in 422 (curl -F)", curl_upload, noise))
    return scenarios


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
