/* A shared object that is not a synack plugin: no synack_plugin_descriptor_v1. */
int not_a_plugin(void);
int not_a_plugin(void) { return 42; }
