# Front door: `make run` and `make test` install what is missing, build (Release), and run.
BUILD      ?= build
SAN_BUILD  ?= build-sanitize
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
# Debian's interpreter sees Debian's numpy and torch; another python3 on PATH may not.
PYTHON     ?= /usr/bin/python3
PREFIX     ?= /usr/local
MAKEFLAGS  += --no-print-directory

.PHONY: deps build run test test-sanitize install bench compare-torch clean

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: the Criteo Kaggle model's pooled look-ups with each of the four data flows,
# checked against the scalar reference and timed.
run: build
	./$(BUILD)/embflow info
	./$(BUILD)/embflow run --model criteo-kaggle --batch 2048 --strategy all --iters 20 --check

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-sanitize: deps
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBFLOW_SANITIZE=ON -DEMBFLOW_BENCH=OFF -DEMBFLOW_PYTHON=OFF $(CMAKE_ARGS) >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The library, its headers, the CLI and a CMake package (find_package(embflow)) under PREFIX.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	./$(BUILD)/embflow bench --out docs/bench

compare-torch: build
	PYTHONPATH=$(BUILD)/python $(PYTHON) bench/compare_torch.py

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
