"""Run real nbgrader commands as an unprivileged student with that student's exchange view
— the same mounts the hub gives a student's container (``Exchange.mounts``), made with
the kernel's bind mounts in a private mount namespace (``unshare -m``) instead of Docker,
then the uid dropped with ``setpriv``."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from coursebench.grading.exchange import Exchange, student_config

BIN = Path(sys.executable).parent


def can_run_as_students() -> str | None:
    """Why the students cannot be run here (None: they can)."""
    if os.geteuid() != 0:
        return "running as other uids needs root"
    for tool in ("unshare", "setpriv", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} (util-linux) is not installed"
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no private mount namespace: {probe.stderr.strip()}"
    return None


@dataclass
class Student:
    name: str
    uid: int
    home: Path
    view: Path
    """Where this student's exchange appears (the container's /srv/nbgrader/exchange)."""
    config_dir: Path

    @classmethod
    def make(cls, name: str, uid: int, world: Path, ex: Exchange) -> Student:
        home = world / f"home-{name}"
        home.mkdir(mode=0o700)
        os.chown(home, uid, uid)
        view = world / f"view-{name}"
        view.mkdir(mode=0o755)
        config_dir = world / f"jupyter-{name}"
        config_dir.mkdir(mode=0o755)
        (config_dir / "nbgrader_config.py").write_text(student_config(ex.course_id, root=str(view)))
        ex.setup([name])
        return cls(name, uid, home, view, config_dir)

    def run(self, ex: Exchange, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        """``argv`` as this student (uid, HOME, JUPYTERHUB_USER) inside their view."""
        lines = ["set -e", *self._reach_python()]
        for spec in ex.mounts(self.name, target=str(self.view), config_target=None):
            t = shlex.quote(spec.target)
            if spec.source is None:
                lines.append(f"mount -t tmpfs -o mode={spec.mode:o},size={spec.size} tmpfs {t}")
            else:
                lines.append(f"mkdir -p {t}")
                ro = "-o ro " if spec.read_only else ""
                lines.append(f"mount --bind {ro}{shlex.quote(str(spec.source))} {t}")
        env = {
            "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(self.home), "JUPYTERHUB_USER": self.name,
            "JUPYTER_CONFIG_DIR": str(self.config_dir), "JUPYTER_DATA_DIR": str(self.home / ".local/jupyter"),
            "LANG": "C.UTF-8",
        }
        user = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]
        lines.append("cd " + shlex.quote(str(self.home)))
        lines.append("exec " + " ".join(shlex.quote(a) for a in user))
        proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", "\n".join(lines)],
                              capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name}: {' '.join(argv)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def _reach_python(self) -> list[str]:
        """The interpreter may live under a folder only root can search (/root/.pyenv):
        in the namespace, that folder is covered by a tmpfs with the interpreter put back."""
        prefix = Path(sys.base_prefix).resolve()
        blocked = next((p for p in reversed(prefix.parents) if p != Path("/") and not p.stat().st_mode & 0o001), None)
        if blocked is None:
            return []
        stash = self.view.parent / f".python-{self.name}"
        stash.mkdir(exist_ok=True)
        q = shlex.quote
        return [f"mount --bind {q(str(prefix))} {q(str(stash))}",
                f"mount -t tmpfs -o mode=755 tmpfs {q(str(blocked))}",
                f"mkdir -p {q(str(prefix))}",
                f"mount --move {q(str(stash))} {q(str(prefix))}"]

    def nbgrader(self, ex: Exchange, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run(ex, str(BIN / "nbgrader"), *args, check=check)

    def sh(self, ex: Exchange, script: str, check: bool = False) -> subprocess.CompletedProcess:
        return self.run(ex, "/bin/sh", "-c", script, check=check)
