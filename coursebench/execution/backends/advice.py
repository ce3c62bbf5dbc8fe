"""What to run on *this* machine so that a sandbox backend can be used.

When ``auto`` finds neither bubblewrap nor Docker usable, nothing runs (see
:func:`coursebench.execution.backends.resolve`); the refusal carries these fixes: the
exact commands for this machine — with ``sudo`` unless already root, the package
manager it has, the kernel setting that stops bubblewrap (user namespaces, AppArmor's
restriction of them), whether the Docker engine is missing, stopped or lacks the image.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Kernel settings that keep bubblewrap from making namespaces: (file, bad value, setting).
USERNS_SYSCTLS = (
    (Path("/proc/sys/kernel/unprivileged_userns_clone"), "0", "kernel.unprivileged_userns_clone=1"),
    (Path("/proc/sys/user/max_user_namespaces"), "0", "user.max_user_namespaces=15000"),
    (Path("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"), "1",
     "kernel.apparmor_restrict_unprivileged_userns=0"),
)
PACKAGE_MANAGERS = (("apt-get", "apt-get install -y"), ("dnf", "dnf install -y"), ("yum", "yum install -y"),
                    ("zypper", "zypper install -y"), ("pacman", "pacman -S --noconfirm"), ("apk", "apk add"))
DOCKER_PACKAGES = {"apt-get": "docker.io", "apk": "docker"}


def _sudo() -> str:
    return "" if os.geteuid() == 0 else "sudo "


def install(package: str, *, debian: str | None = None) -> str:
    """The command that installs ``package`` here (``debian``: its name on Debian/Ubuntu)."""
    for exe, command in PACKAGE_MANAGERS:
        if shutil.which(exe):
            name = debian if exe == "apt-get" and debian else package
            return f"{_sudo()}{command} {name}"
    return f"install the {package} package with this system's package manager"


def in_container() -> bool:
    return Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()


def bwrap_fix(reason: str) -> str:
    """How to make the bwrap backend usable, given why it is not."""
    if "not installed" in reason:
        return (f"install bubblewrap: {install('bubblewrap')} (in this repository, as root: make sysdeps-demo)"
                " — or put its directory on PATH if it is installed elsewhere")
    if "setpriv" in reason:
        return f"install setpriv, which drops root inside the sandbox: {install('util-linux')}"
    settings = []
    for path, bad, setting in USERNS_SYSCTLS:
        try:
            if path.read_text().strip() == bad:
                settings.append(setting)
        except OSError:
            continue
    if settings:
        lines = "\\n".join(settings)
        return ("let bubblewrap create namespaces: "
                + "; ".join(f"{_sudo()}sysctl -w {s}" for s in settings)
                + f" (to keep it after a reboot: printf '{lines}\\n' | {_sudo()}tee /etc/sysctl.d/60-coursebench.conf)")
    if in_container():
        return ("bubblewrap cannot create namespaces inside this container: start the container with "
                "--security-opt seccomp=unconfined --security-opt apparmor=unconfined (or --privileged), "
                "or give coursebench the host's Docker engine instead (COURSEBENCH_DOCKER_HOST)")
    return ("bubblewrap cannot create namespaces here (see its error above): check that the kernel allows "
            "user and pid namespaces (`bwrap --ro-bind / / --unshare-all true` shows the problem)")


def docker_fix(reason: str) -> str:
    """How to make the docker backend usable, given why it is not."""
    if "SDK" in reason or "pip install" in reason:
        return "install the Docker SDK for Python: pip install 'coursebench[docker]'"
    if "image" in reason:
        return "build the sandbox image: make images-runtime (or python -m coursebench.images build runtime)"
    if not shutil.which("dockerd") and not shutil.which("docker"):
        package = DOCKER_PACKAGES.get(next((exe for exe, _ in PACKAGE_MANAGERS if shutil.which(exe)), ""), "docker")
        return (f"install Docker: {install('docker', debian=package)}, start it "
                f"({_start_docker()}), then build the sandbox image: make images-runtime")
    return (f"start the Docker engine: {_start_docker()} — or point COURSEBENCH_DOCKER_HOST at a running one; "
            "then build the sandbox image if it is missing: make images-runtime")


def _start_docker() -> str:
    if Path("/run/systemd/system").is_dir() and shutil.which("systemctl"):
        return f"{_sudo()}systemctl start docker"
    return f"{_sudo()}dockerd > /var/log/dockerd.log 2>&1 &"


FIXERS = {"bwrap": bwrap_fix, "docker": docker_fix}


def sandbox_fixes(tried: dict[str, str]) -> list[str]:
    """One fix per sandbox backend that could not be used (bubblewrap first: the quicker)."""
    order = sorted(tried, key=lambda name: (name != "bwrap", name))
    return [FIXERS[name](tried[name]) for name in order if name in FIXERS]
