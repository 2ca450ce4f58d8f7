/**
 * The one form renderer: rjsf with the ajv8 validator, Chinese messages, and the server's field errors
 * shown on their fields through `extraErrors`. No hand-written widgets.
 */
import { forwardRef, type ReactNode } from 'react';
import Form from '@rjsf/core';
import { customizeValidator } from '@rjsf/validator-ajv8';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { transformErrorsZh, withFieldOrder } from '../../lib/formErrors';
import { translateZh } from './zh';

// The forms declare JSON Schema Draft 2020-12 (as the server validates them); ajv's default class knows only draft-07
// and refuses such a schema outright ("no schema with key or ref …/2020-12/schema").
const validator = customizeValidator({ AjvClass: Ajv2020 });

export interface TaskFormProps {
  schema: RJSFSchema;
  uiSchema?: UiSchema;
  formData?: unknown;
  extraErrors?: ErrorSchema;
  disabled?: boolean;
  onChange?: (data: unknown) => void;
  onSubmit?: (data: unknown) => void;
  children?: ReactNode;
  liveValidate?: boolean;
}

const TaskForm = forwardRef<Form, TaskFormProps>(function TaskForm(
  { schema, uiSchema, formData, extraErrors, disabled, onChange, onSubmit, children, liveValidate },
  ref,
) {
  return (
    <Form
      ref={ref}
      className="rjsf task-form"
      schema={schema}
      uiSchema={{ 'ui:submitButtonOptions': { norender: !!children }, ...withFieldOrder(schema as { properties?: Record<string, unknown>; required?: string[] }, uiSchema) }}
      formData={formData}
      validator={validator}
      transformErrors={transformErrorsZh}
      translateString={translateZh}
      extraErrors={extraErrors}
      showErrorList="top"
      noHtml5Validate
      focusOnFirstError
      liveValidate={liveValidate ? 'onChange' : undefined}
      disabled={disabled}
      onChange={(e) => onChange?.(e.formData)}
      onSubmit={(e) => onSubmit?.(e.formData)}
    >
      {children}
    </Form>
  );
});

export default TaskForm;
