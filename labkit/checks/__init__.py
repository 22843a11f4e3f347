"""The checks behind the labs' autograded test cells, one module per lab (``lab01``, ...).

Visible test cells in the notebooks make quick checks; the hidden ones call these
functions, which compare a student's function with labkit's reference on unseen inputs.
"""
