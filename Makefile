# One entry point for students, instructors and CI. Everything runs in .venv/ at the repo root.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LABS := $(notdir $(wildcard solutions/[0-9]*))

.PHONY: lab test lint notebooks solutions grading-demo grade hub hub-stop bench results reference-models clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	touch $(STAMP)

# Containers often run as root, which JupyterLab refuses unless told.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

## Students: start JupyterLab on the labs (notebooks/), opened on the landing page notebooks/README.md;
## the class settings (no news or update pop-ups) are in jupyter/.
lab: $(STAMP)
	$(BIN)/jupyter lab --config=jupyter/jupyter_lab_config.py $(ROOT_FLAG) $(LAB_ARGS)

## Everyone: the whole test suite (lint, labkit, notebooks, nbgrader round trip).
test: $(STAMP)
	$(BIN)/ruff check labkit tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check labkit tests bench

## Instructors: execute solutions/ in place (after editing them), then regenerate notebooks/.
solutions: $(STAMP)
	for lab in $(LABS); do $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.store_widget_state=False \
	  --ExecutePreprocessor.record_timing=False solutions/$$lab/*.ipynb || exit 1; done

notebooks: $(STAMP)
	for lab in $(LABS); do $(BIN)/nbgrader generate_assignment $$lab --force --no-db || exit 1; done

## Instructors: autograde the solution and the blank release of every lab in a scratch course.
grading-demo: $(STAMP)
	$(BIN)/python -m labkit.grader demo $(LABS)

## Instructors: autograde every submission of a lab in submitted/ in parallel: grades/LAB.csv (scores per student
## and exercise, integrity flags) and feedback/. make grade LAB=04_grad_cam WORKERS=2
## Every student kernel runs in the grading sandbox (bubblewrap); where it cannot start, grading stops unless
## COURSE_GRADING_UNSANDBOXED=1 accepts the risk (the same for grading-demo).
WORKERS ?= 2
grade: $(STAMP)
	@test -n "$(LAB)" || { echo "name the lab: make grade LAB=04_grad_cam"; exit 2; }
	$(BIN)/python -m labkit.grader grade $(LAB) --workers $(WORKERS)

## Instructors: the course's JupyterHub on this machine (as root): a Unix user per student, nbgrader's exchange,
## the formgrader as a service. make hub HUB_INSTRUCTORS="ada" [HUB_AUTH=pam|dummy|lti13] [HUB_PORT=8000]
## [HUB_DATA=/srv/explaining-cnns-hub]; then python deploy/hub/hub.py students roster.csv. See the README.
HUB_DATA ?= /srv/$(shell sed -n 's/^c.CourseDirectory.course_id = "\(.*\)"/\1/p' nbgrader_config.py)-hub
HUB_IP ?= 127.0.0.1
HUB_PORT ?= 8000
HUB_API_PORT ?= 8081
HUB_PROXY_API_PORT ?= 8001
HUB_FORMGRADER_PORT ?= 9999
HUB_AUTH ?= pam
HUB_ARGS := --ip $(HUB_IP) --port $(HUB_PORT) --hub-port $(HUB_API_PORT) --proxy-api-port $(HUB_PROXY_API_PORT) \
  --formgrader-port $(HUB_FORMGRADER_PORT) --auth $(HUB_AUTH) $(foreach name,$(HUB_INSTRUCTORS),--instructor $(name))
hub: $(STAMP)
	@command -v configurable-http-proxy >/dev/null || { echo "the hub needs configurable-http-proxy: npm install -g configurable-http-proxy (as root)"; exit 2; }
	$(BIN)/python deploy/hub/hub.py --data $(HUB_DATA) start $(HUB_ARGS)

hub-stop: $(STAMP)
	$(BIN)/python deploy/hub/hub.py --data $(HUB_DATA) stop

## Speed against Captum / pytorch-grad-cam, and of the metrics (prints tables; not part of the tests).
bench: $(STAMP)
	$(BIN)/python -m bench.occlusion
	$(BIN)/python -m bench.attribution
	$(BIN)/python -m bench.metrics
	$(BIN)/python -m bench.interpretable_step
	$(BIN)/python -m bench.grading

## Re-make the recorded results of assets/results/ that labs 4, 8 and 9 load (the commands their JSON records
## name; hours on a CPU, minutes on a GPU).
results: $(STAMP)
	$(BIN)/python -m labkit.experiments.grad_cam_table --images 12 --steps 50
	$(BIN)/python -m labkit.interpretable.experiments methods --arch mobilenet_v2 --images 200
	$(BIN)/python -m labkit.interpretable.experiments methods --arch resnet18 --lam 1 --methods Grad-CAM Grad-CAM++ Axiom-CAM --images 200 --no-ship
	$(BIN)/python -m labkit.interpretable.experiments errors --arch resnet18 --lam 1 --images 200
	$(BIN)/python -m labkit.interpretable.experiments lambdas --arch resnet18 --lams 1 3 --images 200
	for model in shapes_mobilenet_v2 shapes_resnet18; do \
	  $(BIN)/python -m labkit.gad.experiments run --images 256 --load-models --model $$model \
	  --procedure intersection half || exit 1; done

## Re-train the small reference classifiers of assets/models/ and GAD's support models of assets/models/gad/
## (the commands their records name).
reference-models: $(STAMP)
	$(BIN)/python -m labkit.reference.train --arch resnet18 --train-size 6000 --epochs 4 --batch-size 32 --lr 2e-3
	$(BIN)/python -m labkit.reference.train --arch mobilenet_v2 --train-size 6000 --epochs 10 --batch-size 32 --lr 2e-3
	$(BIN)/python -m labkit.reference.train --arch mobilenet_v2 --shortcut --train-size 6000 --epochs 4 \
	  --batch-size 32 --lr 2e-3
	$(BIN)/python -m labkit.gad.experiments train --model shapes_mobilenet_v2
	$(BIN)/python -m labkit.gad.experiments train --model shapes_resnet18

clean:
	rm -rf $(VENV)
