#!/bin/sh
# Entry point of the course image: a passwd line for the pod's user id (the hub gives each user their own),
# named after the hub user, then the command (jupyterhub-singleuser).
set -e
name="${JUPYTERHUB_USER:-jovyan}"
if ! getent passwd "$(id -u)" >/dev/null; then
  echo "${name}:x:$(id -u):$(id -g):${name}:${HOME}:/bin/bash" >> /etc/passwd
fi
exec "$@"
