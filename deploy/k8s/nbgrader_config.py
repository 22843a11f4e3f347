"""nbgrader's settings in every pod of the course image (/etc/jupyter/nbgrader_config.py; deploy/k8s/Dockerfile).

The exchange is the shared volume mounted at /srv/nbgrader/exchange (nbgrader's default root; deploy/k8s/values.yaml);
the students of a course are the hub's group nbgrader-<course> (nbgrader's JupyterHub plugin).
"""

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821  (provided by nbgrader)
c.Exchange.root = "/srv/nbgrader/exchange"
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = JupyterHubAuthPlugin
c.CourseDirectory.course_id = "explaining-cnns"
