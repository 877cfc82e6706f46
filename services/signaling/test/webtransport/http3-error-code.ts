/** Test helper: the HTTP/3 error code a codec call throws. */
import { Http3Error } from "../../src/webtransport/errors.ts";

/** The code of the {@link Http3Error} that `run` throws; -1 for any other exception; undefined if it returns. */
export function http3ErrorCodeOf(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof Http3Error ? error.code : -1;
  }
  return undefined;
}
