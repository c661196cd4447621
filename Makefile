# The two commands a newcomer needs: `make demo` and `make test`. Everything else is plumbing.
SHELL := /bin/bash
BUILD_DIR ?= build
SAN_BUILD_DIR ?= build-san
TSAN_BUILD_DIR ?= build-tsan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build images training-images controlplane cluster-up cluster-down test test-unit test-e2e test-san test-tsan demo demo-down clean

deps:
	@bash tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The four services' OCI images and the test image, without a container engine, as archives in
# $(BUILD_DIR)/images (tools/images/build.sh; `ctr -n k8s.io images import` loads them).
images: build
	@bash tools/images/build.sh $(BUILD_DIR) $(BUILD_DIR)/images

# The training images of examples/training/ (tools/images/training/*.env), cached by version under
# ~/.cache/kubedl/images: Debian packages and pinned PyPI wheels, no container engine.
training-images: deps
	@bash tools/images/training.sh $(notdir $(basename $(wildcard tools/images/training/*.env)))

controlplane: deps
	@bash tools/controlplane/build.sh

cluster-up: controlplane
	@bash tools/controlplane/up.sh

cluster-down:
	@bash tools/controlplane/down.sh

# Builds everything, starts (or reuses) the local control plane, runs every test.
test: build controlplane
	@bash tools/run-tests.sh $(BUILD_DIR)

# The unit tests alone: no control plane needed.
test-unit: build
	@cd $(BUILD_DIR) && ctest -L unit --output-on-failure -j $(JOBS)

# The end-to-end tests alone (label e2e): real containers on a real node of their own, real
# training in every framework, gang scheduling by a real scheduler. Builds the training images
# and the scheduler when their cache is cold (`make test` under CI skips those tests then).
test-e2e: build controlplane
	@bash tools/controlplane/build.sh --node
	@cd $(BUILD_DIR) && KUBEDL_E2E_BUILD_IMAGES=1 ctest -L e2e --output-on-failure -j 1

# ASan + UBSan build of the libraries and the unit tests (nothing else), running the unit tests.
test-san: deps
	@cmake -S . -B $(SAN_BUILD_DIR) -G Ninja -DKUBEDL_SANITIZE=ON -DKUBEDL_BENCHMARKS=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(SAN_BUILD_DIR) -j $(JOBS) --target kubedl_unit_tests
	@cd $(SAN_BUILD_DIR) && ctest -L unit --output-on-failure -j $(JOBS)

# ThreadSanitizer build of the libraries and the unit tests (nothing else), running the unit
# tests but those labelled grpc (cmake/KubedlTarget.cmake says why); a data race fails its test.
# test/tsan/ holds Abseil's annotations and the suppressions.
test-tsan: deps
	@cmake -S . -B $(TSAN_BUILD_DIR) -G Ninja -DKUBEDL_TSAN=ON -DKUBEDL_BENCHMARKS=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target kubedl_unit_tests
	@cd $(TSAN_BUILD_DIR) && TSAN_OPTIONS="suppressions=$(CURDIR)/test/tsan/suppressions.txt second_deadlock_stack=1 history_size=4 $(TSAN_OPTIONS)" \
	  ctest -L unit -LE grpc --output-on-failure -j $(JOBS)

# Builds, starts the control plane and the four services, runs the examples to completion.
demo: build controlplane
	@bash tools/demo.sh $(BUILD_DIR)

# Stops what `make demo` left running.
demo-down:
	@bash tools/demo/stop-services.sh .local/demo
	@bash tools/controlplane/down.sh
	@KUBEDL_CLUSTER_DIR=$(CURDIR)/.local/real-node-cluster bash tools/controlplane/down.sh

clean:
	rm -rf $(BUILD_DIR) $(SAN_BUILD_DIR) $(TSAN_BUILD_DIR)
