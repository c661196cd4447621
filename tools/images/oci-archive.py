#!/usr/bin/env python3
"""Writes a root file system as a single-layer OCI image archive (an OCI image layout in a tar).

    oci-archive.py --rootfs DIR --name localhost/kubedl/kubedl-webhook:local --out image.tar \
        [--entrypoint /usr/local/bin/kubedl-webhook] [--cmd ARG ...] [--user 65532:65532] \
        [--env KEY=VALUE ...] [--workdir /] [--label KEY=VALUE ...] [--arch amd64]

`ctr -n k8s.io images import image.tar` names the image after the index's
io.containerd.image.name annotation; `skopeo copy oci-archive:image.tar docker://...` or any OCI
tool can push it. The layer is reproducible: sorted entries, owner root, fixed modification time,
so the same files give the same digests. Parent directories come before their entries, as image
unpackers expect.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

EPOCH = 0  # every entry's mtime, so the same files give the same digest
# OCI's GOARCH names of the machines we build on.
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
        "s390x": "s390x"}


def layer_tar(rootfs: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = []
        for top, dirs, files in os.walk(rootfs):
            dirs.sort()
            for name in sorted(dirs + files):
                paths.append(os.path.join(top, name))
        for path in sorted(paths, key=lambda p: os.path.relpath(p, rootfs)):
            info = tar.gettarinfo(path, arcname=os.path.relpath(path, rootfs))
            info.mtime = EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isfile():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    return raw.getvalue()


def blob(blobs: dict, media_type: str, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rootfs", required=True)
    p.add_argument("--name", required=True, help="full image reference, e.g. localhost/x:tag")
    p.add_argument("--out", required=True)
    p.add_argument("--entrypoint", nargs="*", default=[])
    p.add_argument("--cmd", nargs="*", default=[])
    p.add_argument("--user", default="")
    p.add_argument("--workdir", default="/")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--arch", default=ARCH.get(platform.machine(), platform.machine()),
                   help="architecture of the binaries (default: this machine's)")
    a = p.parse_args()
    if not os.path.isdir(a.rootfs):
        print(f"oci-archive: {a.rootfs} is not a directory", file=sys.stderr)
        return 2

    uncompressed = layer_tar(a.rootfs)
    compressed = gzip.compress(uncompressed, compresslevel=6, mtime=EPOCH)
    blobs: dict = {}
    layer = blob(blobs, "application/vnd.oci.image.layer.v1.tar+gzip", compressed)
    env = ["PATH=/usr/local/bin:/usr/bin:/bin"] + a.env
    config = {
        "architecture": a.arch,
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Env": env,
            "WorkingDir": a.workdir,
            "Labels": dict(kv.split("=", 1) for kv in a.label),
            **({"Entrypoint": a.entrypoint} if a.entrypoint else {}),
            **({"Cmd": a.cmd} if a.cmd else {}),
            **({"User": a.user} if a.user else {}),
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": ["sha256:" + hashlib.sha256(uncompressed).hexdigest()],
        },
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "tools/images"}],
    }
    config_desc = blob(blobs, "application/vnd.oci.image.config.v1+json",
                       json.dumps(config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": [layer]}
    manifest_desc = blob(blobs, "application/vnd.oci.image.manifest.v1+json",
                         json.dumps(manifest, sort_keys=True).encode())
    tag = a.name.rsplit(":", 1)[1] if ":" in a.name.rsplit("/", 1)[-1] else "latest"
    manifest_desc["platform"] = {"architecture": a.arch, "os": "linux"}
    manifest_desc["annotations"] = {"io.containerd.image.name": a.name,
                                    "org.opencontainers.image.ref.name": tag}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [manifest_desc]}

    tmp = f"{a.out}.{os.getpid()}.tmp"
    with tarfile.open(tmp, "w") as out:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
            out.addfile(info, io.BytesIO(data))
        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index, sort_keys=True).encode())
        for digest, data in sorted(blobs.items()):
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    os.replace(tmp, a.out)
    print(f"{a.name}: {a.out} ({len(compressed) / 1048576:.1f} MiB compressed, "
          f"{len(uncompressed) / 1048576:.1f} MiB unpacked)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
