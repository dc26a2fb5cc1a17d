#ifndef FORKBOX_CLIENT_COMMANDS_H
#define FORKBOX_CLIENT_COMMANDS_H

/* Each returns the process exit code. */
int fbxc_run(int argc, char **argv);
int fbxc_policy(int argc, char **argv);

#endif
