/** Generator, media and signaling as three processes over a real nats-server. */
import { describeViewerScenario } from "./harness/viewer-scenario.ts";
import { startOverNats } from "@ballstream/testing";

describeViewerScenario("three processes over NATS", startOverNats);
