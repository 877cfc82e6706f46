/** Free ports on 127.0.0.1 for the services a test starts. */
export { freePort as freeTcpPort } from "@ballstream/shared/testing/nats-server";
export { freeUdpPort } from "@ballstream/shared/testing/helpers";
