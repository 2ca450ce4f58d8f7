/**
 * The one form renderer: rjsf with the ajv8 validator, Chinese messages, and the server's field errors
 * shown on their fields through `extraErrors`. Named widgets: the drug and village pickers.
 */
import { forwardRef, type ReactNode } from 'react';
import Form from '@rjsf/core';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { transformErrorsZh, withFieldOrder } from '../../lib/formErrors';
import { FORM_DEFAULTS, formValidator as validator } from '../../lib/formValidator';
import { translateZh } from './zh';
import DrugPicker from './DrugPicker';
import SignatureWidget from './SignatureWidget';
import VillagePicker from './VillagePicker';

// named widgets a form's uiSchema may ask for (`"ui:widget": "drugPicker"`)
const WIDGETS = { drugPicker: DrugPicker, villagePicker: VillagePicker, signature: SignatureWidget };

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
      widgets={WIDGETS}
      experimental_defaultFormStateBehavior={FORM_DEFAULTS}
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
