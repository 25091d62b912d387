# Sourced by the scripts that run on a lent GPU (gpu_suite.sh, experiments/reproduce.sh): installs
# the wheels carried in .lease/wheels (benchmarks/fetch_wheels.sh) into /tmp/site and puts them and
# this checkout's src/ on PYTHONPATH. PYTHON names the interpreter (default python3);
# LEASE_INSTALL=0 skips the wheels (the CPU dry runs).
PYTHON=${PYTHON:-python3}
export PYTHON PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
if [[ ${LEASE_INSTALL:-1} != 0 ]] && compgen -G ".lease/wheels/*.whl" >/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .lease/wheels/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
