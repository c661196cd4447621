#!/usr/bin/env python3
"""Checks an OCI image archive written by oci-archive.py, structurally, and unpacks it:

    verify.py ARCHIVE --name REF --entrypoint PATH [--require PATH ...] [--extract DIR]

index.json -> manifest -> config and layers: every digest and size matches its blob, the
config's diff_ids match the uncompressed layers, the index names REF, the config runs PATH as
65532:65532, each --require path is in a layer (a file, or a symlink leading to one), every
entry is owned by root with no setuid/setgid bit and nothing is world-writable, /etc/passwd names
nonroot 65532, /usr/share/kubedl/packages.txt matches the io.kubedl.debian-packages label.
--extract unpacks the layers into DIR (for running the image's binary with chroot).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import posixpath
import stat
import sys
import tarfile


def fail(msg: str) -> None:
    raise SystemExit(f"verify: {msg}")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("archive")
    p.add_argument("--name", required=True)
    p.add_argument("--entrypoint", required=True)
    p.add_argument("--require", action="append", default=[])
    p.add_argument("--extract")
    a = p.parse_args()

    with tarfile.open(a.archive) as t:
        files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    if json.loads(files.get("oci-layout", b"{}")).get("imageLayoutVersion") != "1.0.0":
        fail("oci-layout missing or not 1.0.0")

    def blob(desc: dict, what: str) -> bytes:
        algo, hexd = desc["digest"].split(":", 1)
        data = files.get(f"blobs/{algo}/{hexd}")
        if data is None:
            fail(f"{what} blob {desc['digest']} missing")
        if hashlib.sha256(data).hexdigest() != hexd:
            fail(f"{what} blob {desc['digest']}: digest does not match its content")
        if len(data) != desc["size"]:
            fail(f"{what} blob {desc['digest']}: size {len(data)} != descriptor's {desc['size']}")
        return data

    index = json.loads(files["index.json"])
    if len(index.get("manifests", [])) != 1:
        fail("index.json should list one manifest")
    mdesc = index["manifests"][0]
    if mdesc.get("annotations", {}).get("io.containerd.image.name") != a.name:
        fail(f"index names {mdesc.get('annotations')}, not {a.name}")
    manifest = json.loads(blob(mdesc, "manifest"))
    if manifest.get("mediaType") != "application/vnd.oci.image.manifest.v1+json":
        fail("manifest media type")
    config = json.loads(blob(manifest["config"], "config"))
    cfg = config["config"]
    if cfg.get("Entrypoint") != [a.entrypoint]:
        fail(f"entrypoint {cfg.get('Entrypoint')} != [{a.entrypoint}]")
    if cfg.get("User") != "65532:65532":
        fail(f"user {cfg.get('User')!r} is not 65532:65532")
    if len(config["rootfs"]["diff_ids"]) != len(manifest["layers"]):
        fail("diff_ids and layers differ in number")

    entries = {}
    layers = []
    for ldesc, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
        raw = gzip.decompress(blob(ldesc, "layer"))
        if "sha256:" + hashlib.sha256(raw).hexdigest() != diff_id:
            fail(f"layer {ldesc['digest']}: uncompressed digest != diff_id {diff_id}")
        layers.append(raw)
        with tarfile.open(fileobj=io.BytesIO(raw)) as t:
            for m in t.getmembers():
                name = posixpath.normpath("/" + m.name)
                if m.uid or m.gid:
                    fail(f"{name} owned by {m.uid}:{m.gid}, not root")
                if m.mode & (stat.S_ISUID | stat.S_ISGID):
                    fail(f"{name} is setuid/setgid")
                if m.mode & 0o002 and not m.issym():
                    fail(f"{name} is world-writable")
                data = t.extractfile(m).read() if m.isfile() else None
                entries[name] = (m, data)

    def resolve(path: str, depth: int = 0):
        """The entry `path` leads to inside the image, following symlinks in every component."""
        if depth > 40:
            fail(f"symlink loop at {path}")
        parts = [x for x in path.split("/") if x]
        cur = "/"
        for i, part in enumerate(parts):
            nxt = posixpath.join(cur, part)
            ent = entries.get(nxt)
            if ent is None:
                return None
            if ent[0].issym():
                target = posixpath.normpath(posixpath.join(cur, ent[0].linkname))
                return resolve(posixpath.join(target, *parts[i + 1:]), depth + 1)
            cur = nxt
        return entries.get(cur)

    for path in [a.entrypoint] + a.require:
        ent = resolve(path)
        if ent is None or not ent[0].isfile():
            fail(f"{path} is not a file in the image")
    if not resolve(a.entrypoint)[0].mode & 0o001:
        fail(f"{a.entrypoint} is not executable by others")
    passwd = (resolve("/etc/passwd") or (None, b""))[1].decode()
    if "nonroot:x:65532:65532:" not in passwd:
        fail("/etc/passwd does not name nonroot 65532:65532")
    listed = (resolve("/usr/share/kubedl/packages.txt") or (None, b""))[1].decode().split()
    label = cfg.get("Labels", {}).get("io.kubedl.debian-packages", "").split(",")
    if not listed or listed != label:
        fail(f"packages.txt {listed} != label {label}")
    for key in ("org.opencontainers.image.version", "org.opencontainers.image.revision",
                "org.opencontainers.image.source", "org.opencontainers.image.title"):
        if not cfg.get("Labels", {}).get(key):
            fail(f"label {key} missing")

    if a.extract:
        os.makedirs(a.extract, exist_ok=True)
        for raw in layers:
            with tarfile.open(fileobj=io.BytesIO(raw)) as t:
                # Our own archive, with absolute symlinks (/lib64/ld-linux-x86-64.so.2 -> /lib/...).
                kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
                t.extractall(a.extract, numeric_owner=True, **kw)
    print(f"verify: {a.name}: {len(entries)} entries, {len(a.require)} required paths, "
          f"{len(listed)} packages, digests and sizes ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
