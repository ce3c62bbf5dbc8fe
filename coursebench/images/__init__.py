"""Build coursebench's Docker images: ``python -m coursebench.images build --all``.

Two ways to build (see docker/README.md):

* **online** (a normal machine): the Dockerfile's ``FROM python:3.11-slim`` / CUDA base
  come from a registry and pip installs from the package index inside the build;
* **offline** (air-gapped, or no reachable registry — e.g. CI here): the base image is
  made locally with ``debootstrap`` + ``docker import``, and wheels are downloaded *on the
  host* (``pip download``, for the image's Python) into the build context and installed
  with ``--no-index``.  Base tarballs and wheels are cached under
  ``/var/cache/coursebench`` (``$COURSEBENCH_CACHE``) so a second build is quick.

Every image carries the SHA-256 of ``coursebench/execution/worker.py`` it was built
with (label ``org.coursebench.worker-sha256``); the docker backend refuses an image
whose worker differs from the host's and says to rebuild.

One concept per module:

========================  ==========================================================
:mod:`.targets`           the Dockerfile's targets, their tags, the worker label
:mod:`.build`             the build context, ``docker build``, :func:`ensure`
:mod:`.base`              the debootstrap base image for offline builds
:mod:`.wheels`            the offline wheel cache (``pip download`` on the host)
:mod:`.dockerfile`        the Dockerfile cut down to one target's stages
:mod:`.engine`            a Docker client, what the engine has and can reach
:mod:`.common`            :class:`ImageError`, the ``log`` callback, checkout and cache
:mod:`.dockerd`           a throwaway ``dockerd`` for the docker tests and benchmark
:mod:`.cli`               ``python -m coursebench.images`` / ``coursebench images``
========================  ==========================================================

Library functions report progress through an optional ``log`` callback and never print;
the command line (:mod:`.cli`) prints.

Import what you need from its module (``from coursebench.images.build import ensure``):
the package re-exports nothing, so ``coursebench.images.build`` and
``coursebench.images.targets`` are always the modules, never the functions of those names.
"""
