# The course hub: JupyterHub + DockerSpawner, one JupyterLab container per student (docs/hub.md).
.PHONY: hub-deps hub hub-stop hub-status images-lab-slim test-hub

hub-deps: install                              ## configurable-http-proxy (npm) and the hub extra
	@command -v configurable-http-proxy > /dev/null || npm install -g configurable-http-proxy
	$(PIP) install -q -e '.[hub]'

images-lab-slim: install sysdeps-test          ## the slim lab image the hub's tests use (no TensorFlow)
	$(PY) -m coursebench.images build lab-slim $(IMAGES_ARGS)

hub: hub-deps                                  ## start the hub from course.toml ([hub]) on 127.0.0.1
	$(PY) -m coursebench.cli hub start $(HUB_ARGS)

hub-stop: install                              ## stop the hub, its services and every user's container
	$(PY) -m coursebench.cli hub stop

hub-status: install
	$(PY) -m coursebench.cli hub status

test-hub: install sysdeps-test hub-deps        ## the hub's tests: parts, limits, the browser end to end
	$(PY) -m pytest tests/hub -q $(PYTEST_ARGS)
