/** Response rendering: JSON or XML bodies and the error envelope. */
import { XMLBuilder } from 'fast-xml-parser';
import type { ApiError } from '../errors.js';

export type Format = 'json' | 'xml';

export interface Rendered {
  status: number;
  contentType: string;
  body: string;
}

const JSON_TYPE = 'application/json;charset=utf-8';
const XML_TYPE = 'text/xml;charset=utf-8';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';

const xml = new XMLBuilder({ ignoreAttributes: true, suppressEmptyNode: false });

function render(status: number, root: string, body: object, format: Format): Rendered {
  if (format === 'json') return { status, contentType: JSON_TYPE, body: JSON.stringify(body) };
  return {
    status,
    contentType: XML_TYPE,
    body: XML_DECL + (xml.build({ [root]: body }) as string),
  };
}

/** A success body: `RequestId` first; XML root `<ActionResponse>`. Never carries `Code`. */
export function renderSuccess(
  action: string,
  requestId: string,
  body: Record<string, unknown>,
  format: Format,
): Rendered {
  return render(200, `${action}Response`, { RequestId: requestId, ...body }, format);
}

/** The documented error envelope: `{RequestId, HostId, Code, Message, Recommend}`, XML root `<Error>`. */
export function renderError(
  err: ApiError,
  requestId: string,
  hostId: string,
  format: Format,
): Rendered {
  const body = {
    RequestId: requestId,
    HostId: hostId,
    Code: err.code,
    Message: err.message,
    Recommend: `See the ecs-secgroup README, section "Errors", for ${err.code}.`,
  };
  return render(err.status, 'Error', body, format);
}
