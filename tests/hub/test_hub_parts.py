"""The hub's parts without a hub: the rendered config, GPU grants through the engine's GPU
slots (fake device ids, as the GPU-scheduling tests use), private homes, and the roster
login against a real leaderboard."""

from __future__ import annotations

import asyncio
import os
import stat
from types import SimpleNamespace

import pytest

pytest.importorskip("dockerspawner", reason="the hub extra (pip install -e '.[hub]')")

from coursebench.config import Course, Student
from coursebench.hub.config import HubPlan, render
from coursebench.hub.course import allowed_users, hub_settings
from coursebench.hub.spawner import CourseSpawner, GPUGrants, private_home

FAKE_GPU_DEVICES = ["fake-gpu-0", "fake-gpu-1"]


def course(tmp_path, **hub) -> Course:  # type: ignore[no-untyped-def]
    return Course(students=[Student(id="s01"), Student(id="s02", gpu=True), Student(id="s03", gpu=True),
                            Student(id="s04", gpu=True)],
                  hub={"state_dir": str(tmp_path / "state"), "instructors": ["prof"], **hub}, root=tmp_path)


def test_config_is_loopback_only_and_names_the_roster(tmp_path) -> None:
    c = course(tmp_path, port=18000, memory="1G", pids=99)
    plan = HubPlan(course=c, hub=hub_settings(c), leaderboard_command=["coursebench", "serve"])
    text = render(plan)
    compile(text, "jupyterhub_config.py", "exec")
    assert "c.JupyterHub.ip = '127.0.0.1'" in text and "c.JupyterHub.hub_ip = '127.0.0.1'" in text
    assert "c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:18002'" in text
    assert "c.CourseSpawner.memory_bytes = 1073741824" in text and "pids_limit = 99" in text
    assert "'s02', 's03', 's04'" in text  # gpu_users
    for user in ("s01", "s04", "prof"):
        assert repr(user) in text
    assert allowed_users(c, plan.hub)[-1] == "prof"
    assert "jupyterhub_idle_culler" in text and "'name': 'leaderboard'" in text
    assert "access:services!service=leaderboard" in text
    secrets = plan.state / "cookie_secret", plan.state / "crypt_key"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets)
    assert all(p.read_text() not in text for p in secrets)


def spawner(name: str, **kw) -> CourseSpawner:  # type: ignore[no-untyped-def]
    s = CourseSpawner(gpu_users=["s02", "s03", "s04"], gpu_devices=FAKE_GPU_DEVICES, **kw)
    s.user = SimpleNamespace(name=name)  # type: ignore[assignment]
    return s


def test_gpu_only_when_granted_and_one_server_per_device() -> None:
    plain = spawner("s01")
    assert "device_requests" not in plain.host_config_extra(None)
    assert plain.server_environment(None, None)["NVIDIA_VISIBLE_DEVICES"] == "void"
    got = [GPUGrants.take(u, FAKE_GPU_DEVICES) for u in ("s02", "s03", "s04")]
    try:
        assert sorted(got[0] + got[1]) == FAKE_GPU_DEVICES  # one device each, none shared
        assert got[2] is None  # no third server on two GPUs
        assert GPUGrants.take("s02", FAKE_GPU_DEVICES) == got[0]  # a restart keeps its device
        requests = spawner("s02").host_config_extra(got[0])["device_requests"]
        assert [dict(r) for r in requests] == [{"Driver": "", "Count": 0, "DeviceIDs": got[0],
                                                "Capabilities": [["gpu"]], "Options": {}}]
        s = spawner("s04")
        with pytest.raises(RuntimeError, match="every GPU is in use"):
            asyncio.run(s.start())
        GPUGrants.give_back("s03", FAKE_GPU_DEVICES)
        assert GPUGrants.take("s04", FAKE_GPU_DEVICES) == got[1]
    finally:
        for u in ("s02", "s03", "s04"):
            GPUGrants.give_back(u, FAKE_GPU_DEVICES)
    assert GPUGrants.holding() == {}


def test_homes_are_private_and_only_instructors_mount_the_course(tmp_path) -> None:
    home = private_home(tmp_path / "homes", "s01")
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    if os.geteuid() == 0:
        assert (home.stat().st_uid, home.stat().st_gid) == (1000, 1000)
    with pytest.raises(ValueError):
        private_home(tmp_path / "homes", "../s02")
    kw = {"homes_dir": str(tmp_path / "homes"), "course_dir": str(tmp_path / "course"), "instructors": ["prof"],
          "exchange_root": str(tmp_path / "exchange")}
    student = spawner("s01", **kw).course_volumes()
    assert [v["bind"] for v in student.values()] == ["/home/student"]
    prof = spawner("prof", **kw).course_volumes()
    assert {v["bind"] for v in prof.values()} == {"/home/student", "/course", "/usr/local/share/nbgrader/exchange"}


def test_roster_login_against_the_leaderboard(tmp_path) -> None:
    from coursebench.hub.auth import RosterTokenAuthenticator
    from tests.web.conftest import build_site

    site = build_site("sqlite:///" + str(tmp_path / "lb.db"), tmp_path, workers=0)
    try:
        auth = RosterTokenAuthenticator(leaderboard_url=site.url)

        def login(user: str, token: str):  # type: ignore[no-untyped-def]
            return asyncio.run(auth.authenticate(None, {"username": user, "password": token}))

        ok = login("Alice", site.tokens["alice"])
        assert ok == {"name": "alice", "admin": False, "auth_state": {"token": site.tokens["alice"], "role": "student"}}
        assert login("alice", site.tokens["bob"]) is None  # bob's token does not log in as alice
        assert login("alice", "wrong") is None
        assert login("prof", site.tokens["prof"])["admin"] is True
    finally:
        site.server.stop()
