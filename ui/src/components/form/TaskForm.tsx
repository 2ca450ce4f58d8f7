/**
 * The one form renderer: rjsf with the ajv8 validator, Chinese messages, and the server's field errors
 * shown on their fields through `extraErrors`. Named widgets: the drug, village and doctor pickers. A long form whose
 * uiSchema asks for `ui:sections` shows in numbered collapsible sections (Sections.tsx), on the staff task page and in
 * the phone app alike; a failed submit opens the sections holding errors and focuses the first one.
 */
import { forwardRef, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import Form from '@rjsf/core';
import type { ErrorSchema, RJSFSchema, RJSFValidationError, UiSchema } from '@rjsf/utils';
import { transformErrorsZh, withFieldOrder } from '../../lib/formErrors';
import { FORM_DEFAULTS, formValidator as validator } from '../../lib/formValidator';
import { translateZh } from './zh';
import DoctorPicker from './DoctorPicker';
import DrugPicker from './DrugPicker';
import { RadioWidget, SelectWidget } from './enumWidgets';
import SignatureWidget from './SignatureWidget';
import VillagePicker from './VillagePicker';
import {
  SectionedObjectTemplate, focusErrorField, initialOpen, sectionNames, sectionOfError, sectionsOf, sectionsWithErrors,
  type SectionsState,
} from './Sections';

// named widgets a form's uiSchema may ask for (`"ui:widget": "drugPicker"`), and rjsf's select and radio with an
// enum's null choice named (enumWidgets.tsx)
const WIDGETS = {
  drugPicker: DrugPicker, villagePicker: VillagePicker, doctorPicker: DoctorPicker, signature: SignatureWidget,
  SelectWidget, RadioWidget,
};

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
  const sectioned = sectionsOf(uiSchema) !== null;
  const names = useMemo(() => (sectioned ? sectionNames(schema, uiSchema) : []), [sectioned, schema, uiSchema]);
  const [open, setOpen] = useState<Set<string>>(() => initialOpen(schema, uiSchema));
  const openSections = useCallback((wanted: (string | null)[]) => {
    const add = wanted.filter((n): n is string => !!n);
    if (add.length) setOpen((o) => (add.every((n) => o.has(n)) ? o : new Set([...o, ...add])));
  }, []);
  // the server's field errors: open the sections they are in
  useEffect(() => {
    if (sectioned) openSections(sectionsWithErrors(extraErrors, names));
  }, [sectioned, extraErrors, names, openSections]);
  const sections = useMemo<SectionsState>(() => ({
    open,
    toggle: (name) => setOpen((o) => {
      const n = new Set(o);
      if (n.has(name)) n.delete(name);
      else n.add(name);
      return n;
    }),
    advance: (name, next) => {
      setOpen((o) => new Set([...o].filter((x) => x !== name).concat(next)));
      setTimeout(() => document.getElementById(`section-${next}-head`)?.scrollIntoView({ block: 'start' }), 0);
    },
  }), [open]);
  const onError = useCallback((errors: RJSFValidationError[]) => {
    openSections(errors.map((e) => sectionOfError(e.property, names)));
  }, [names, openSections]);
  // after the sections holding errors have opened (the next frame), the first error's field gets the focus
  const focusFirst = useCallback((error: RJSFValidationError) => {
    openSections([sectionOfError(error.property, names)]);
    setTimeout(() => focusErrorField(error.property), 0);
  }, [names, openSections]);
  const ui = withFieldOrder(schema as { properties?: Record<string, unknown>; required?: string[] }, uiSchema);
  return (
    <Form
      ref={ref}
      className={`rjsf task-form${sectioned ? ' sectioned' : ''}`}
      schema={schema}
      uiSchema={{
        'ui:submitButtonOptions': { norender: !!children }, ...ui,
        ...(sectioned ? { 'ui:ObjectFieldTemplate': SectionedObjectTemplate } : {}),
      }}
      formData={formData}
      validator={validator}
      widgets={WIDGETS}
      formContext={sectioned ? { sections } : undefined}
      experimental_defaultFormStateBehavior={FORM_DEFAULTS}
      transformErrors={transformErrorsZh}
      translateString={translateZh}
      extraErrors={extraErrors}
      showErrorList="top"
      noHtml5Validate
      focusOnFirstError={sectioned ? focusFirst : true}
      onError={sectioned ? onError : undefined}
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
