# Docker images and the docker sandbox (see docker/README.md).
.PHONY: images-runtime images-status test-docker test-lab-image test-gpu-image

images-runtime: install sysdeps-test          ## only the image submissions run in
	$(PY) -m coursebench.images build runtime $(IMAGES_ARGS)

images-status: install                        ## which images exist; stale ones need a rebuild
	$(PY) -m coursebench.images status

test-docker: install sysdeps-test             ## the docker tests (as root: their own dockerd)
	$(PY) -m pytest tests/docker -q $(PYTEST_ARGS)

test-lab-image: install sysdeps-test          ## build the 3 GB lab image offline and check it (not in `make test`)
	COURSEBENCH_TEST_LAB_IMAGE=1 $(PY) -m pytest tests/docker/test_lab_image.py -q $(PYTEST_ARGS)

test-gpu-image: install sysdeps-test          ## build the ~8 GB gpu image offline (CUDA from pip wheels) and check it (not in `make test`)
	COURSEBENCH_TEST_GPU_IMAGE=1 $(PY) -m pytest tests/docker/test_gpu_image.py -q $(PYTEST_ARGS)
