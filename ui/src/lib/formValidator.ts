/**
 * The form renderer's validator. The forms declare JSON Schema Draft 2020-12 and the server validates them as such
 * (`app/tasks/forms.py`: the class their `$schema` names, 2020-12 when none); ajv's default class knows only
 * draft-07 and refuses such a schema outright ("no schema with key or ref …/2020-12/schema"), so rjsf gets ajv's
 * 2020 class: one dialect end to end (issue 12.10).
 */
import { customizeValidator } from '@rjsf/validator-ajv8';
import Ajv2020 from 'ajv/dist/2020';

export const FORM_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

// `validateSchema: false`: ajv would otherwise compile the whole 2020-12 meta-schema on a phone to check the form's
// schema itself before the first field shows (~150 ms of a slow phone's CPU on every task page, issue 22.3). The
// schema is the platform's own file, checked at deploy and by the form tests; the user's data is still validated
// against it exactly as before.
export const formValidator = customizeValidator({ AjvClass: Ajv2020, ajvOptionsOverrides: { validateSchema: false } });

/**
 * How rjsf fills a form before the user touches it. Its defaults would answer for the user: a `const: true`
 * consent or acknowledgement ("患者/家属已知情同意", "已阅读并按方案执行") came pre-ticked, and a required yes/no
 * without a default (审核结论, 确认接收) came answered "no". Here a question stays unanswered until the user answers
 * it, so `required` is checked in the browser as on the server. Schema `default`s still apply.
 */
export const FORM_DEFAULTS = { constAsDefaults: 'never', requiredBooleanDefault: 'skip' } as const;
