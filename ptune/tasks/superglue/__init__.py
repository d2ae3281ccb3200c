"""SuperGLUE: BoolQ, CB, RTE (sentence pairs), COPA, WiC, WSC (templated inputs), MultiRC and ReCoRD (reading),
their official metrics, and the WSC span-text fix."""
