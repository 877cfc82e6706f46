/** The one-command default (`bun start`): every service in one process on the in-process bus. */
import { describeViewerScenario } from "./harness/viewer-scenario.ts";
import { startOneProcess } from "@ballstream/testing";

describeViewerScenario("one process (in-process bus)", startOneProcess);
